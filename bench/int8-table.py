"""Markdown table of bench/int8-eval.sh results: MAE and PC per split, delta vs the served fp32 model."""
import sys
import json, glob, collections
DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp/int8eval"
rows = collections.defaultdict(dict)
for f in sorted(glob.glob(f"{DIR}/*__*.json")):
    tag, s = f.split("/")[-1][:-5].split("__")
    d = json.load(open(f))
    rows[tag][s] = d
sets = {"TinyAgeNet": ["utkface_val", "utkface_test"], "TinyAttNet": ["mebeauty_val", "mebeauty_test", "scut_val", "scut_test"]}
for m, ss in sets.items():
    print(f"\n{m} (tier fast, --input crops, onnxruntime-node)")
    print("| variant | " + " | ".join(f"{s} MAE (Δ) | PC (Δ)" for s in ss) + " |")
    print("|---|" + "---|---|" * len(ss))
    ref = rows[f"{m}.fp32"]
    for tag in sorted(k for k in rows if k.startswith(m)):
        cells = []
        for s in ss:
            if s not in rows[tag]: cells.append("- | -"); continue
            a, b = rows[tag][s]["metrics"], ref[s]["metrics"]
            cells.append(f"{a['mae']:.4f} ({a['mae']-b['mae']:+.4f}) | {a['pc']:.4f} ({a['pc']-b['pc']:+.4f})")
        print(f"| {tag.split('.',1)[1]} | " + " | ".join(cells) + " |")
