import { RequireLogin } from '../components/auth/require-login';
import { Gallery } from '../components/gallery/gallery';

export default function GalleryPage() {
  return (
    <RequireLogin why="Log in to launch a GPU-accelerated Linux desktop in your browser.">
      <Gallery />
    </RequireLogin>
  );
}
