//! The Cloudflare Worker (feature `worker`): routing, auth, storage, delivery.
