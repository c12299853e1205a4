import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useState } from 'preact/hooks';

// Preact types an input's attributes as a union over `type` (a password input takes no `list`),
// so the omission has to be made member by member.
type InputProps =
  InputHTMLAttributes<HTMLInputElement> extends infer Member
    ? Member extends unknown
      ? Omit<Member, 'value' | 'onInput' | 'class' | 'children'>
      : never
    : never;

/** A labelled input bound to a piece of string state; `children` go inside the label, after it. */
export function TextField({
  label,
  class: className,
  value,
  onValue,
  children,
  ...input
}: InputProps & {
  label: string;
  class?: string;
  value: string;
  onValue: (value: string) => void;
  children?: ComponentChildren;
}) {
  return (
    <label class={className}>
      {label}
      <input {...input} value={value} onInput={(event) => onValue(event.currentTarget.value)} />
      {children}
    </label>
  );
}

/**
 * A form's submit handler with a busy flag, so its button can be disabled while a request is
 * out; `action` reports its own failures.
 */
export function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  return { busy, submit };
}
