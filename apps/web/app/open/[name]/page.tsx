import type { Metadata } from 'next';
import { segmentText } from '../../../lib/route-params';
import { OpenSession } from '../../../components/open/open-session';

export const metadata: Metadata = { title: 'Opening your desktop' };

/** The desktop's access check sends browsers without a valid cookie here (`<portal>/open/<session>`). */
export default async function OpenPage({ params }: { params: Promise<{ name: string }> }) {
  return <OpenSession name={segmentText((await params).name)} />;
}
