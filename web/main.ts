// The chat page's entry (bundled to /assets/app.js by scripts/build-web.ts).
import { App } from './app.js';

new App().boot();
