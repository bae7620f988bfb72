// Serve ./index.js with Probot 14's createNodeMiddleware on a plain node:http server.
// Environment: APP_ID, PRIVATE_KEY, WEBHOOK_SECRET (Probot's own names), PORT (default 3000),
// HOST (default 127.0.0.1). Webhooks are received at /api/github/webhooks (Probot's default).
// GET /handled answers the number of deliveries the no-op handler saw.
import { createServer } from "node:http";
import { createNodeMiddleware, createProbot } from "probot";
import app, { handledCount } from "./index.js";

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
const probot = createProbot();
const middleware = await createNodeMiddleware(app, { probot, webhooksPath: "/api/github/webhooks" });

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/handled") {
    res.writeHead(200, { "content-type": "text/plain" }).end(String(handledCount()));
    return;
  }
  middleware(req, res, () => {
    res.writeHead(404).end();
  });
});
server.keepAliveTimeout = 65000;
server.listen(port, host, () => {
  console.log(`probot peer listening on http://${host}:${port}/api/github/webhooks`);
});
