import { defineConfig, devices } from '@playwright/test';

// The shop under test. `scripts/test` builds it, picks a free port and a throw-away
// database, and passes the binary in SHOP_SERVER_BIN so Playwright starts (and stops) it.
// Under `cargo leptos end-to-end` cargo-leptos starts the server itself and
// global-setup.ts waits for the port instead.
// SHOP_BASE_URL: the shop behind a front of its own (the https cluster of scripts/test).
const siteAddr = process.env.LEPTOS_SITE_ADDR ?? '127.0.0.1:3000';
// `localhost`, not the address: passkeys (WebAuthn) need a domain name, and the server's
// default relying party is localhost.
const baseURL = process.env.SHOP_BASE_URL ?? `http://${siteAddr.replace(/^127\.0\.0\.1:/, 'localhost:')}`;
const serverBin = process.env.SHOP_SERVER_BIN;
// SHOP_CATALOG: a catalog (JSON lines, scripts/make-catalog) that `server import` loads
// into the fresh database before the server starts: the suite runs against a catalog of
// a real shop's size, beside the demo's products.
const catalog = process.env.SHOP_CATALOG;

export default defineConfig({
  testDir: './tests',
  // A guard against a hang, not a speed limit: through the https cluster (three debug
  // builds, PostgreSQL, nginx and Chromium sharing 2 cores) the longer stories take
  // about 30 s, twice what they take on SQLite. The few that wait out a timeout of the
  // shop's own (sudo mode) set more.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  globalSetup: serverBin ? undefined : './global-setup.ts',
  use: {
    baseURL,
    // The https cluster's certificate is made at its start (self-signed, for localhost).
    ignoreHTTPSErrors: baseURL.startsWith('https:'),
    trace: 'retain-on-failure',
    // Never download a browser: Debian's Chromium, with the network-quiet flags this
    // machine needs (see TOOLCHAIN.md).
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: serverBin
    ? {
        command: catalog ? `"${serverBin}" import "${catalog}" && exec "${serverBin}"` : serverBin,
        cwd: '..',
        url: `${baseURL}/`,
        reuseExistingServer: false,
        timeout: 120_000,
        stdout: 'pipe',
        stderr: 'pipe',
        env: {
          LEPTOS_SITE_ADDR: siteAddr,
          LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? 'target/site',
          // The build hashes file names (hash-files in Cargo.toml).
          LEPTOS_HASH_FILES: process.env.LEPTOS_HASH_FILES ?? 'true',
          DATABASE_URL: process.env.DATABASE_URL ?? '',
          SEED_DEMO_DATA: 'true',
          // Plain http on loopback: a release build's `Secure` cookie would not be kept.
          COOKIE_SECURE: process.env.COOKIE_SECURE ?? 'false',
          RUST_LOG: process.env.RUST_LOG ?? 'warn',
          // Sudo mode's window, short enough for a test to see a proof go stale.
          SUDO_SECS: process.env.SUDO_SECS ?? '15',
          // The test command's SMTP server (scripts/mail-sink); unset, mail goes to files.
          MAIL_URL: process.env.MAIL_URL ?? '',
        },
      }
    : undefined,
});
