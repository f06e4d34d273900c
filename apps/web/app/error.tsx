'use client';
/** What a page shows when it fails to render: words, and a way to try again. */
export default function PageError({ reset }: { error: Error & { digest?: string }; reset(): void }) {
  return (
    <section className="panel" aria-labelledby="error-heading">
      <h1 id="error-heading">This page could not be shown</h1>
      <p role="alert">Something went wrong while showing this page. Try again, or reload the page.</p>
      <button type="button" className="button button-primary" onClick={reset}>
        Try again
      </button>
    </section>
  );
}
