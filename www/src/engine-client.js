// Main-thread handle on the engine worker: promise-based calls and progress events.

export class Engine {
  // `onProgress({phase, done, total})` while a file is read; `onView(view)` with the partial
  // views of a file still being read.
  constructor(onProgress, onView) {
    this.worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.onProgress = onProgress;
    this.onView = onView;
    this.worker.onmessage = (m) => {
      const d = m.data;
      if (d.type === 'progress') { if (this.onProgress) this.onProgress(d); return; }
      if (d.type === 'view') { if (this.onView) this.onView(d.view); return; }
      const p = this.pending.get(d.id);
      if (!p) return;
      this.pending.delete(d.id);
      if (d.ok) p.resolve(d.result);
      else { const e = new Error(d.error.message); e.data = d.error; p.reject(e); }
    };
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'engine worker failed'));
      this.pending.clear();
    };
  }

  call(op, args) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }
}
