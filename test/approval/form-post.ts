/**
 * A form POST to the approval trigger as a browser sends it from `origin` (a header given may
 * replace or blank it, as a forged request would), redirects not followed so the 303 is seen.
 */
export function postForm(
  origin: string,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
