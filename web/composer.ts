import { byId } from './dom.js';

/** At most one `typing` event per this long while the user keeps typing. */
const TYPING_EVERY_MS = 2_000;

export interface ComposerHooks {
  send(text: string): void;
  typing(): void;
}

/** The message box: Enter sends, Shift+Enter is a new line; typing is announced, throttled. */
export class Composer {
  private readonly form = byId<HTMLFormElement>('composer-form');
  private readonly input = byId<HTMLTextAreaElement>('composer');
  private readonly button = byId<HTMLButtonElement>('send');
  private readonly abort = new AbortController();
  private lastTyping = 0;

  constructor(hooks: ComposerHooks) {
    const signal = this.abort.signal;
    this.input.value = '';
    this.setEnabled(true);
    this.form.addEventListener('submit', (e) => (e.preventDefault(), this.submit(hooks)), { signal });
    this.input.addEventListener(
      'keydown',
      (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.submit(hooks);
        }
      },
      { signal },
    );
    this.input.addEventListener(
      'input',
      () => {
        const now = Date.now();
        if (this.input.value && now - this.lastTyping >= TYPING_EVERY_MS) {
          this.lastTyping = now;
          hooks.typing();
        }
      },
      { signal },
    );
  }

  focus(): void {
    this.input.focus();
  }

  setEnabled(enabled: boolean): void {
    this.input.disabled = !enabled;
    this.button.disabled = !enabled;
  }

  dispose(): void {
    this.abort.abort();
    this.setEnabled(false);
  }

  private submit(hooks: ComposerHooks) {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return;
    this.input.value = '';
    // The next keystroke is a new message: announce it again at once.
    this.lastTyping = 0;
    hooks.send(text);
  }
}
