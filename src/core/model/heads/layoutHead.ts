// What every head over an ONNX output layout shares: its notes, and Trainer's logits from the layout
// (ModelOutput order, ignored outputs dropped, a single output unwrapped). Heads add their loss.
import { Tensor, TensorNode } from '../../tensor/tensor';
import type { OutputLayout } from './types';
import { logitsInOrder } from './layout';

export abstract class LayoutHead {
  readonly notes: string[];

  constructor(protected readonly layout: OutputLayout) {
    this.notes = [...layout.notes];
  }

  logitsFrom(outputs: Record<string, Tensor>, _outputNames: readonly string[]): TensorNode {
    return logitsInOrder(this.layout, outputs);
  }
}
