# An independent reference for Trainer's accumulation (transformers trainer_pt_utils.numpy_pad_and_concatenate
# / nested_concat, applied batch by batch as evaluation_loop does) and for eval_loss (each batch's mean
# cross-entropy repeated n_s times, then np.mean in float32). Reads per-batch arrays from a folder:
#   batch{b}_{name}.npy   name in: logits, labels, inputs
# and writes: ref_predictions.npy, ref_label_ids.npy, ref_inputs.npy, ref_eval_loss.txt
import os, sys, glob
import numpy as np

def atleast_1d(x):
    return x if x.ndim > 0 else x[None]

def numpy_pad_and_concatenate(array1, array2, padding_index=-100):
    array1 = atleast_1d(array1)
    array2 = atleast_1d(array2)
    if len(array1.shape) == 1 or array1.shape[1] == array2.shape[1]:
        return np.concatenate((array1, array2), axis=0)
    new_shape = (array1.shape[0] + array2.shape[0], max(array1.shape[1], array2.shape[1])) + array1.shape[2:]
    result = np.full_like(array1, padding_index, shape=new_shape)
    result[: array1.shape[0], : array1.shape[1]] = array1
    result[array1.shape[0] :, : array2.shape[1]] = array2
    return result

def cross_entropy(logits, labels, ignore=-100):
    logits = logits.reshape(-1, logits.shape[-1]).astype(np.float64)
    labels = labels.reshape(-1)
    keep = labels != ignore
    z = logits[keep]
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    nll = lse - z[np.arange(z.shape[0]), labels[keep]]
    return np.float32(nll.mean())

d = sys.argv[1]
nb = len(glob.glob(os.path.join(d, 'batch*_logits.npy')))
acc = {}
losses = []
for b in range(nb):
    for name in ('logits', 'labels', 'inputs'):
        p = os.path.join(d, f'batch{b}_{name}.npy')
        if not os.path.exists(p):
            continue
        x = np.load(p)
        acc[name] = x if name not in acc else numpy_pad_and_concatenate(acc[name], x)
    lg = np.load(os.path.join(d, f'batch{b}_logits.npy'))
    lb = np.load(os.path.join(d, f'batch{b}_labels.npy'))
    losses.append(np.repeat(cross_entropy(lg, lb), lg.shape[0]).astype(np.float32))
np.save(os.path.join(d, 'ref_predictions.npy'), acc['logits'])
np.save(os.path.join(d, 'ref_label_ids.npy'), acc['labels'])
if 'inputs' in acc:
    np.save(os.path.join(d, 'ref_inputs.npy'), acc['inputs'])
with open(os.path.join(d, 'ref_eval_loss.txt'), 'w') as f:
    f.write(repr(float(np.mean(np.concatenate(losses)))))
