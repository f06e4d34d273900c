import type { Metadata } from 'next';
import { segmentText } from '../../../lib/route-params';
import { RequireLogin } from '../../../components/auth/require-login';
import { SessionProgress } from '../../../components/sessions/session-progress';

interface Props {
  params: Promise<{ name: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Session ${segmentText((await params).name)}` };
}

export default async function SessionPage({ params, searchParams }: Props) {
  const name = segmentText((await params).name);
  const launched = (await searchParams).launched === '1';
  return (
    <RequireLogin why="Log in to follow your session.">
      <SessionProgress name={name} launched={launched} />
    </RequireLogin>
  );
}
