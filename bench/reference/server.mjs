// The reference OpenID provider of the benchmark (docs/benchmarks.md): node `oidc-provider`, the
// certified general-purpose OP, configured as close to educonnect as it goes so the ratios mean
// something: the same relying parties, opaque access tokens, refresh tokens rotated on every use,
// RS256 ID tokens, PKCE, client_secret_basic, its state (sessions, codes, tokens, grants) in
// Redis, one argon2id verification per login with the same parameters (the suite passes the
// hash), and one worker process per CPU (node runs JavaScript on one thread per process).
//
// Started by `educonnect-bench suite --reference`; configured by environment only:
//   REF_ISSUER, REF_PORT, REDIS_URL, REF_REDIS_PREFIX, REF_ENT_ID, REF_ENT_SECRET,
//   REF_ENT_REDIRECT, REF_SERVICE_ID, REF_SERVICE_SECRET, REF_ACCOUNT_PREFIX, REF_ACCOUNTS,
//   REF_PASSWORD_HASH, REF_WORKERS (default: one per CPU).

import cluster from 'node:cluster';
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';

import { verify } from '@node-rs/argon2';
import Redis from 'ioredis';
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

if (cluster.isPrimary) {
  // One signing key and one cookie key shared by every worker.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'ref-rs256', alg: 'RS256', use: 'sig' };
  const shared = {
    REF_JWK: JSON.stringify(jwk),
    REF_COOKIE_KEY: crypto.randomBytes(32).toString('base64url'),
  };
  const workers = Number(process.env.REF_WORKERS || os.availableParallelism());
  for (let i = 0; i < workers; i += 1) cluster.fork(shared);
  cluster.on('exit', (worker, code) => {
    console.error(`worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  });
} else {
  await worker();
}

async function worker() {
  const redis = new Redis(env('REDIS_URL'), { keyPrefix: env('REF_REDIS_PREFIX') });
  const issuer = env('REF_ISSUER');
  const accountPrefix = env('REF_ACCOUNT_PREFIX');
  const accounts = Number(env('REF_ACCOUNTS'));
  const passwordHash = env('REF_PASSWORD_HASH');
  const csrfKey = env('REF_COOKIE_KEY');

  // The Redis adapter of oidc-provider's documentation (example/adapters/redis.js), on ioredis.
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest']);
  const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest']);
  const grantKeyFor = (id) => `grant:${id}`;
  const sessionUidKeyFor = (id) => `sessionUid:${id}`;

  class RedisAdapter {
    constructor(name) { this.name = name; }

    key(id) { return `${this.name}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = redis.multi();
      if (consumable.has(this.name)) {
        multi.hset(key, { payload: JSON.stringify(payload) });
      } else {
        multi.set(key, JSON.stringify(payload));
      }
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        const grantKey = grantKeyFor(payload.grantId);
        multi.rpush(grantKey, key);
        const ttl = await redis.ttl(grantKey);
        if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
      }
      if (payload.uid) {
        multi.set(sessionUidKeyFor(payload.uid), id);
        if (expiresIn) multi.expire(sessionUidKeyFor(payload.uid), expiresIn);
      }
      await multi.exec();
    }

    async find(id) {
      if (consumable.has(this.name)) {
        const data = await redis.hgetall(this.key(id));
        if (!data || !data.payload) return undefined;
        const { payload, ...rest } = data;
        return { ...rest, ...JSON.parse(payload) };
      }
      const data = await redis.get(this.key(id));
      return data ? JSON.parse(data) : undefined;
    }

    async findByUid(uid) {
      const id = await redis.get(sessionUidKeyFor(uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode() { return undefined; }

    async consume(id) {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }

    async destroy(id) { await redis.del(this.key(id)); }

    async revokeByGrantId(grantId) {
      const key = grantKeyFor(grantId);
      const tokens = await redis.lrange(key, 0, -1);
      const multi = redis.multi();
      tokens.forEach((token) => multi.del(token));
      multi.del(key);
      await multi.exec();
    }
  }

  const provider = new Provider(issuer, {
    adapter: RedisAdapter,
    clients: [
      {
        client_id: env('REF_ENT_ID'),
        client_secret: env('REF_ENT_SECRET'),
        redirect_uris: [env('REF_ENT_REDIRECT')],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: env('REF_SERVICE_ID'),
        client_secret: env('REF_SERVICE_SECRET'),
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        scope: 'scolarite',
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [JSON.parse(env('REF_JWK'))] },
    cookies: { keys: [env('REF_COOKIE_KEY')] },
    scopes: ['openid', 'offline_access', 'profile', 'scolarite'],
    claims: { openid: ['sub'], profile: ['given_name', 'family_name', 'name'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    // As educonnect: a refresh token for every code flow of a client allowed the grant, and a
    // new one at every use.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      Grant: 30 * 24 * 3600,
      IdToken: 600,
      Interaction: 600,
      RefreshToken: 30 * 24 * 3600,
      Session: 8 * 3600,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, given_name: 'Léa', family_name: 'Martin', name: 'Léa Martin' }),
    }),
  });

  const csrfOf = (uid) => crypto.createHmac('sha256', csrfKey).update(uid).digest('base64url');

  const readForm = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });

  const send = (res, status, html) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  };

  // The login page: the same fields as educonnect's (hidden transaction and CSRF token, login,
  // password), posted back to this worker.
  const page = (uid, error) => `<!doctype html><html lang="fr"><head><title>${error ? 'Erreur : ' : ''}Connexion</title></head><body>
<form method="post" action="/interaction/${uid}/login">
<input type="hidden" name="tx" value="${uid}"><input type="hidden" name="csrf" value="${csrfOf(uid)}">
<label>Identifiant <input name="login" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit" name="action" value="login">Se connecter</button>
${error ? `<p role="alert">${error}</p>` : ''}</form></body></html>`;

  const knownAccount = (login) => {
    if (!login.startsWith(accountPrefix)) return false;
    const n = Number(login.slice(accountPrefix.length));
    return Number.isInteger(n) && n >= 0 && n < accounts;
  };

  const interaction = async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return send(res, 200, page(details.uid));
    const form = await readForm(req);
    if (form.get('csrf') !== csrfOf(details.uid)) return send(res, 400, page(details.uid, 'Requête invalide.'));
    const login = form.get('login') || '';
    // One argon2id verification per attempt, known login or not (no timing oracle).
    const valid = await verify(passwordHash, form.get('password') || '');
    if (!valid || !knownAccount(login)) {
      return send(res, 200, page(details.uid, 'Identifiant ou mot de passe incorrect.'));
    }
    const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, {
      mergeWithLastSubmission: false,
    });
  };

  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((error) => {
        console.error(error);
        if (!res.headersSent) send(res, 500, 'Erreur');
      });
    } else {
      callback(req, res);
    }
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env('REF_PORT')), '127.0.0.1');
}
