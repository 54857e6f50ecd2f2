import { ApiError, type AuthResult, login, register } from './api.js';
import { byId, show } from './dom.js';

/** Sign in or sign up: one form, two submit buttons. */
export class AuthView {
  private readonly root = byId('auth');
  private readonly form = byId<HTMLFormElement>('auth-form');
  private readonly username = byId<HTMLInputElement>('auth-username');
  private readonly password = byId<HTMLInputElement>('auth-password');
  private readonly error = byId('auth-error');

  constructor(onSignedIn: (r: AuthResult) => void) {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const action = (e.submitter as HTMLButtonElement | null)?.value === 'register' ? register : login;
      void this.submit(action, onSignedIn);
    });
  }

  /** `why`: the reason the user is back here (a session that ended), if any. */
  open(why?: string): void {
    this.setError(why);
    this.password.value = '';
    show(this.root, true);
    this.username.focus();
  }

  close(): void {
    show(this.root, false);
  }

  private async submit(action: typeof login, onSignedIn: (r: AuthResult) => void) {
    this.setBusy(true);
    this.setError(undefined);
    try {
      onSignedIn(await action(this.username.value, this.password.value));
    } catch (e) {
      this.setError(e instanceof ApiError && e.status === 409 ? 'that username is taken' : (e as Error).message);
    } finally {
      this.setBusy(false);
    }
  }

  private setBusy(busy: boolean) {
    for (const b of this.form.querySelectorAll('button')) b.disabled = busy;
  }

  private setError(text: string | undefined) {
    this.error.textContent = text ?? '';
    show(this.error, !!text);
  }
}
