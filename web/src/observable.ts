import { useLayoutEffect, useReducer, useRef } from 'preact/hooks';

/** A value that tells its subscribers when it changes: the little state management the dashboard needs. */
export class Observable<T> {
  #value: T;
  readonly #listeners = new Set<() => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get value(): T {
    return this.#value;
  }

  set(value: T): void {
    if (Object.is(value, this.#value)) return;
    this.#value = value;
    this.notify();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

/**
 * Re-renders the component when `select` of the observable's value changes (by identity),
 * so a part of the page that shows the counts does not redraw for every heartbeat.
 */
export function useSelect<T, S>(observable: Observable<T>, select: (value: T) => S): S {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const selectRef = useRef(select);
  selectRef.current = select;
  const selected = select(observable.value);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  // Subscribed as the render is committed, and checked at once: a change made between the
  // render and the subscription (an answer that came before the first paint) is not missed.
  useLayoutEffect(() => {
    const check = () => {
      if (!Object.is(selectRef.current(observable.value), selectedRef.current)) redraw(0);
    };
    const unsubscribe = observable.subscribe(check);
    check();
    return unsubscribe;
  }, [observable]);
  return selected;
}

export function useObservable<T>(observable: Observable<T>): T {
  return useSelect(observable, (value) => value);
}
