// The Probot app of the webhook-intake benchmark peer: one no-op handler for issue_comment.created.
// Probot itself verifies X-Hub-Signature-256 and dispatches; the handler only counts.
let handled = 0;

export default (app) => {
  app.on("issue_comment.created", async (context) => {
    handled += 1;
    if (!context.payload || !context.payload.comment) {
      throw new Error("issue_comment payload without a comment");
    }
  });
};

export function handledCount() {
  return handled;
}
