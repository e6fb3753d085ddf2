/**
 * The runner receives the bearer secret and every face crop, so it is reached over https. Plain
 * http is accepted only for a loopback host (the local stack, tests) or when the deployment says
 * so explicitly (RUNNER_ALLOW_HTTP = "true", for a private network in local development).
 */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function checkRunnerUrl(raw: string, allowHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("RUNNER_URL is not a URL");
  }
  if (url.protocol === "https:") return;
  if (url.protocol !== "http:") throw new Error(`RUNNER_URL must be https, not ${url.protocol}`);
  if (LOOPBACK.test(url.hostname) || allowHttp) return;
  throw new Error(
    "RUNNER_URL must be https: the runner secret and face crops would cross the network in clear (RUNNER_ALLOW_HTTP=true allows http on a private network)",
  );
}
