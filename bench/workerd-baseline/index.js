// Answers every request like trailsift's health check, and does nothing else.
export default {
  async fetch() {
    return new Response(JSON.stringify({ ok: true, version: 'baseline' }), {
      headers: { 'content-type': 'application/json' },
    });
  },
};
