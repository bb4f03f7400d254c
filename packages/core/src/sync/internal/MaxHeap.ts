/**
 * A binary max-heap of values by numeric priority: the download queue's order of hashes.
 *
 * @since 0.1.0
 */

/** A max-heap; `pop` returns the entry of highest priority. */
export class MaxHeap<A> {
  /** Priorities, heap-ordered, parallel to `#values`. */
  #priorities: Array<number> = []
  /** Values, in the same slots as their priorities. */
  #values: Array<A> = []

  /** Number of entries. */
  get size(): number {
    return this.#values.length
  }

  /** Adds a value. */
  push(value: A, priority: number): void {
    const p = this.#priorities
    const v = this.#values
    let i = v.length
    p.push(priority)
    v.push(value)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (p[parent]! >= priority) break
      p[i] = p[parent]!
      v[i] = v[parent]!
      i = parent
    }
    p[i] = priority
    v[i] = value
  }

  /** The priority of the top entry, or undefined when empty. */
  peekPriority(): number | undefined {
    return this.#priorities[0]
  }

  /** The top entry's value, or undefined when empty. */
  peek(): A | undefined {
    return this.#values[0]
  }

  /** Removes and returns the top entry's value; call only when not empty. */
  pop(): A {
    const p = this.#priorities
    const v = this.#values
    const top = v[0]!
    const lastPriority = p.pop()!
    const lastValue = v.pop()!
    const n = v.length
    if (n > 0) {
      let i = 0
      while (true) {
        const left = 2 * i + 1
        if (left >= n) break
        const right = left + 1
        const child = right < n && p[right]! > p[left]! ? right : left
        if (p[child]! <= lastPriority) break
        p[i] = p[child]!
        v[i] = v[child]!
        i = child
      }
      p[i] = lastPriority
      v[i] = lastValue
    }
    return top
  }

  /** Removes everything. */
  clear(): void {
    this.#priorities = []
    this.#values = []
  }
}
