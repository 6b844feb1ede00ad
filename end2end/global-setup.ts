import net from 'node:net';

// `cargo leptos end-to-end` starts the server and the tests at the same moment:
// wait until the server (or the front named by SHOP_BASE_URL) accepts connections.
export default async function globalSetup(): Promise<void> {
  const front = process.env.SHOP_BASE_URL ? new URL(process.env.SHOP_BASE_URL) : null;
  const [host, portText] = front
    ? [front.hostname, front.port || (front.protocol === 'https:' ? '443' : '80')]
    : (process.env.LEPTOS_SITE_ADDR ?? '127.0.0.1:3000').split(':');
  const port = Number(portText);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the shop did not start listening on ${host}:${port} within 120 s`);
}
