/** A one-key prompt built on inquirer's core: `a`, `r` or `s` answers at once, no Enter. */
import { createPrompt, useKeypress, usePrefix, useState } from '@inquirer/core';
import type { ChalkInstance } from 'chalk';

export interface KeyChoice {
  key: string;
  label: string;
}

export interface KeyPromptConfig {
  message: string;
  choices: KeyChoice[];
  /** Shown dimmed after the keys, e.g. "2 more waiting". */
  hint?: string;
  chalk: ChalkInstance;
}

/** Resolves with the key pressed; Ctrl-C rejects with inquirer's ExitPromptError. */
export const keyPrompt = createPrompt<string, KeyPromptConfig>((config, done) => {
  const [status, setStatus] = useState<'idle' | 'done'>('idle');
  const prefix = usePrefix({ status });
  const c = config.chalk;
  useKeypress((key) => {
    const choice = config.choices.find((ch) => ch.key === key.name?.toLowerCase());
    if (choice && status === 'idle') {
      setStatus('done');
      done(choice.key);
    }
  });
  const keys = config.choices.map((ch) => `${c.bold.cyan(ch.key)} ${ch.label}`).join('   ');
  const hint = config.hint ? `  ${c.dim(`· ${config.hint}`)}` : '';
  return `${prefix} ${c.bold(config.message)}  ${keys}${hint}`;
});
