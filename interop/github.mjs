// GitHub's own webhook library (@octokit/webhooks-methods): sign or verify.
// usage: node github.mjs sign SECRET BODY_FILE | node github.mjs verify SECRET BODY_FILE SIGNATURE
import { readFileSync } from "node:fs";
import { sign, verify } from "@octokit/webhooks-methods";

const [mode, secret, bodyFile, signature] = process.argv.slice(2);
const body = readFileSync(bodyFile, "utf8");
if (mode === "sign") {
  process.stdout.write(await sign(secret, body));
} else {
  const ok = await verify(secret, body, signature);
  process.stdout.write(ok ? "valid" : "invalid");
  process.exit(ok ? 0 : 1);
}
