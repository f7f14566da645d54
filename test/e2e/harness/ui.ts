/**
 * Helpers for the workbench's own UI in code-server: the quick input (command palette, quick picks,
 * input boxes, password inputs), modal dialogs and notification toasts. They use the DOM VS Code
 * 1.139 renders; selectors live here only, so a VS Code update is fixed in one place.
 */
import type { Locator, Page } from 'playwright-core';

const DEFAULT_TIMEOUT = 15_000;

export interface QuickInputState {
  title: string;
  /** The input's placeholder. */
  placeholder: string;
  /** The prompt / validation message under the input. */
  message: string;
  value: string;
  /** True for a password input (the value is masked). */
  password: boolean;
  /** Visible rows (label of each). */
  items: string[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class QuickInput {
  readonly widget: Locator;
  readonly input: Locator;

  constructor(private readonly page: Page) {
    this.widget = page.locator('.quick-input-widget');
    this.input = this.widget.locator('.quick-input-box input');
  }

  async isOpen(): Promise<boolean> {
    return this.widget.isVisible();
  }

  /** Waits until the quick input is shown (optionally until its title/placeholder/prompt matches). */
  async waitOpen(match?: RegExp | string, timeout = DEFAULT_TIMEOUT): Promise<QuickInputState> {
    await this.widget.waitFor({ state: 'visible', timeout });
    if (!match) return this.state();
    const re = typeof match === 'string' ? new RegExp(escapeRe(match), 'i') : match;
    const until = Date.now() + timeout;
    let s = await this.state();
    while (!re.test(`${s.title}\n${s.placeholder}\n${s.message}`)) {
      if (Date.now() > until) throw new Error(`Quick input does not match ${re}: ${JSON.stringify({ ...s, value: s.password ? '<masked>' : s.value })}`);
      await this.page.waitForTimeout(100);
      s = await this.state();
    }
    return s;
  }

  async state(): Promise<QuickInputState> {
    // DOM code runs in the page (tsconfig has no DOM lib, hence the `any`).
    return this.widget.evaluate((w: any) => {
      const input = w.querySelector('.quick-input-box input');
      const text = (sel: string) => (w.querySelector(sel)?.textContent ?? '').trim();
      const rows = [...w.querySelectorAll('.monaco-list-row')].filter((r: any) => r.offsetParent !== null);
      return {
        title: text('.quick-input-title'),
        placeholder: input?.getAttribute('placeholder') ?? input?.getAttribute('aria-label') ?? '',
        message: text('.quick-input-message'),
        value: input?.value ?? '',
        password: input?.type === 'password',
        items: rows.map((r: any) => (r.querySelector('.label-name')?.textContent ?? r.getAttribute('aria-label') ?? '').trim()),
      };
    });
  }

  /** Replaces the input's text (real key strokes), then presses Enter unless `submit: false`. */
  async type(text: string, opts: { submit?: boolean; delay?: number } = {}): Promise<void> {
    await this.waitOpen();
    await this.input.click();
    await this.page.keyboard.press('ControlOrMeta+A');
    await this.page.keyboard.press('Backspace');
    await this.input.pressSequentially(text, { delay: opts.delay ?? 5 });
    if (opts.submit !== false) await this.page.keyboard.press('Enter');
  }

  /** The row whose label equals `label` (or matches a RegExp). */
  row(label: string | RegExp): Locator {
    const re = typeof label === 'string' ? new RegExp(`^\\s*${escapeRe(label)}\\s*$`) : label;
    return this.widget.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: re }) });
  }

  /** Clicks the row labelled `label` (accepting a single-select pick). */
  async pick(label: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<void> {
    const row = this.row(label).first();
    await row.waitFor({ state: 'visible', timeout });
    await row.click();
  }

  /** Multi-select: checks the rows labelled `labels`, then accepts (OK / Enter). */
  async pickMany(labels: (string | RegExp)[], timeout = DEFAULT_TIMEOUT): Promise<void> {
    for (const l of labels) {
      const row = this.row(l).first();
      await row.waitFor({ state: 'visible', timeout });
      await row.locator('.quick-input-list-checkbox, input[type=checkbox], .monaco-checkbox').first().click();
    }
    const ok = this.widget.locator('.quick-input-action .monaco-button, .quick-input-ok .monaco-button').first();
    if (await ok.isVisible()) await ok.click();
    else await this.page.keyboard.press('Enter');
  }

  /** Presses Escape until the quick input is gone. */
  async close(): Promise<void> {
    for (let i = 0; i < 5 && (await this.isOpen()); i++) {
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(100);
    }
  }

  async waitClosed(timeout = DEFAULT_TIMEOUT): Promise<void> {
    await this.widget.waitFor({ state: 'hidden', timeout });
  }
}

export interface DialogState {
  message: string;
  detail: string;
  buttons: string[];
}

/** VS Code's modal dialogs (in the web they are always the workbench's custom dialogs). */
export class Dialogs {
  readonly box: Locator;

  constructor(private readonly page: Page) {
    this.box = page.locator('.monaco-dialog-box');
  }

  async isOpen(): Promise<boolean> {
    return this.box.isVisible();
  }

  /** Waits for a modal dialog (optionally one whose message/detail matches) and describes it. */
  async waitFor(timeout = DEFAULT_TIMEOUT, match?: RegExp): Promise<DialogState> {
    await this.box.first().waitFor({ state: 'visible', timeout });
    const until = Date.now() + timeout;
    for (;;) {
      const s = await this.state();
      if (!match || match.test(`${s.message}\n${s.detail}`)) return s;
      if (Date.now() > until) throw new Error(`Dialog does not match ${match}: ${JSON.stringify(s)}`);
      await this.page.waitForTimeout(100);
    }
  }

  async state(): Promise<DialogState> {
    return this.box.first().evaluate((b: any) => ({
      message: (b.querySelector('.dialog-message-text')?.textContent ?? '').trim(),
      detail: (b.querySelector('.dialog-message-detail')?.textContent ?? '').trim(),
      buttons: [...b.querySelectorAll('.dialog-buttons .monaco-button')].map((x: any) => (x.textContent ?? '').trim()),
    }));
  }

  /** Clicks the button whose text matches (e.g. "Copy", /Delete/). */
  async click(label: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<void> {
    await this.box.first().waitFor({ state: 'visible', timeout });
    const re = typeof label === 'string' ? new RegExp(`^\\s*${escapeRe(label)}\\s*$`) : label;
    await this.box.first().locator('.dialog-buttons .monaco-button').filter({ hasText: re }).first().click();
    await this.box.first().waitFor({ state: 'hidden', timeout }).catch(() => undefined);
  }

  /**
   * Waits for the modal dialog matching `match` that `pending` (a command run) brings up, clicks
   * `button` and resolves to the command's result. Fails when no such dialog appears.
   */
  async answer<T>(pending: Promise<T>, match: RegExp, button: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<T> {
    const settled = pending.then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const shown = await Promise.race([this.waitFor(timeout, match).then(() => true), settled.then(() => false)]);
    if (!shown) {
      const r = await settled;
      throw new Error(`No dialog matching ${match} appeared; the command ${r.ok ? `returned ${JSON.stringify(r.v)}` : `failed: ${r.e instanceof Error ? r.e.message : String(r.e)}`}`);
    }
    await this.click(button, timeout);
    const r = await settled;
    if (!r.ok) throw r.e;
    return r.v;
  }

  /** Dismisses the dialog with Escape (= Cancel). */
  async cancel(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.box.first().waitFor({ state: 'hidden', timeout: DEFAULT_TIMEOUT });
  }
}

/** Notification toasts (bottom right) and the notification center. */
export class Notifications {
  /** @param runCommand runs a workbench command (the harness passes the driver's). */
  constructor(
    private readonly page: Page,
    private readonly runCommand: (id: string) => Promise<unknown>,
  ) {}

  toast(match: string | RegExp): Locator {
    return this.page.locator('.notification-toast').filter({ hasText: match });
  }

  /**
   * Waits for a notification whose text matches and returns its text. It looks at the toasts, and
   * after half the timeout also in the notification center (VS Code does not show every new
   * notification as a toast: its spam protection drops the toast when more than 3 notifications
   * were added within 800 ms).
   */
  async waitFor(match: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<string> {
    const t = this.toast(match).first();
    const visible = await t.waitFor({ state: 'visible', timeout: timeout / 2 }).then(() => true, () => false);
    if (visible) return (await t.locator('.notification-list-item-message').first().textContent())?.trim() ?? '';
    await this.runCommand('notifications.showList');
    try {
      const item = this.page.locator('.notifications-center .notification-list-item').filter({ hasText: match }).first();
      await item.waitFor({ state: 'visible', timeout: timeout / 2 });
      return (await item.locator('.notification-list-item-message').first().textContent())?.trim() ?? '';
    } catch (e) {
      const center = await this.page.locator('.notifications-center .notification-list-item-message').allTextContents();
      throw new Error(`No notification matching ${match} (toasts: ${JSON.stringify(await this.all())}, center: ${JSON.stringify(center)}): ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    } finally {
      await this.runCommand('notifications.hideList');
    }
  }

  /** Clicks a button of the notification whose text matches (its toast, else in the notification center). */
  async click(match: string | RegExp, button: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<void> {
    const t = this.toast(match).first();
    if (await t.waitFor({ state: 'visible', timeout: timeout / 2 }).then(() => true, () => false)) {
      await t.locator('.monaco-button').filter({ hasText: button }).first().click();
      return;
    }
    await this.runCommand('notifications.showList');
    const item = this.page.locator('.notifications-center .notification-list-item').filter({ hasText: match }).first();
    try {
      await item.waitFor({ state: 'visible', timeout: timeout / 2 });
    } catch (e) {
      await this.runCommand('notifications.hideList');
      throw new Error(`No notification matching ${match} (toasts: ${JSON.stringify(await this.all())}): ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    }
    await item.locator('.monaco-button').filter({ hasText: button }).first().click();
    await this.runCommand('notifications.hideList');
  }

  /** Texts of every visible toast. */
  async all(): Promise<string[]> {
    return this.page.locator('.notification-toast .notification-list-item-message').allTextContents();
  }

  async clearAll(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }
}
