/** A problem in words, announced to screen readers as it appears. */
export function Alert({
  children,
  tone = 'error',
}: {
  children: React.ReactNode;
  tone?: 'error' | 'warning';
}) {
  return (
    <p role="alert" className={`notice notice-${tone}`}>
      {children}
    </p>
  );
}
