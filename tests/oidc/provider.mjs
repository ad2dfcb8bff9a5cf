// A real OpenID Provider for the single sign-on tests: panva's oidc-provider, configured by
// the test through one JSON file (argv[2]) and listening on 127.0.0.1 only.
//
// The file holds the issuer, the port, the signing keys (private JWKs), the clients and the
// accounts: {username: {password, sub, amr, claims: {groups, email, ...}}}. It is read again
// at every sign-in, so a test removes a user's group by rewriting it, as an administrator
// would at the organisation's provider. The login page checks the password and finishes the
// interaction with the account's `amr` (RFC 8176 values, e.g. ["pwd", "otp"]); consent is
// given for the client at once (a first-party application, as a hospital's would be).
// Interactions: https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#interactions
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const configPath = process.argv[2];
const read = () => JSON.parse(readFileSync(configPath, 'utf8'));
const initial = read();

const accountBySub = (sub) => Object.values(read().accounts).find((a) => a.sub === sub);

const provider = new Provider(initial.issuer, {
  clients: initial.clients,
  jwks: { keys: initial.jwks },
  cookies: { keys: ['careflow-test-oidc-cookie-key'] },
  claims: {
    // oidc-provider's defaults, and amr (how the account signed in, RFC 8176) in every ID
    // token, as providers such as Entra ID and Okta send it
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accountBySub(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, problem) {
  res.statusCode = problem ? 400 : 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><title>Test provider: sign in</title></head><body>
<main><h1>Test provider: sign in</h1>${problem ? `<p role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="username">Provider username</label> <input id="username" name="username" autocomplete="off">
<label for="password">Provider password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in at the provider</button></form></main></body></html>`);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (req.method === 'GET') return loginPage(res, uid);
    const form = await body(req);
    const account = read().accounts[form.get('username')];
    if (!account || account.password !== form.get('password')) {
      return loginPage(res, uid, 'Wrong username or password');
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: account.sub, amr: account.amr },
    }, { mergeWithLastSubmission: false });
  }
  // consent: everything the client asked for, at once
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.end(String(err));
    });
    return;
  }
  handler(req, res);
});
server.listen(initial.port, '127.0.0.1', () => {
  process.stdout.write(`listening on ${initial.issuer}\n`);
});
