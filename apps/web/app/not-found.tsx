import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="panel">
      <h1>There is no such page</h1>
      <p>
        Go to the <Link href="/">desktops</Link> or to <Link href="/sessions">your sessions</Link>.
      </p>
    </section>
  );
}
