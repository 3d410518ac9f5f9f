#!/usr/bin/env bash
# engine.sh — the TorchSharp engine against the libtorch bridge it replaced, side by side in one run
# (`./workbook bench engine [--rounds N] [--threads "1 2"] [--workloads "..."]`).
#
# Builds tests/bench/EngineBench.cs twice — against this checkout's library and, in a scratch worktree, against the
# library of BRIDGE_COMMIT (the last commit on the bridge: Debian's libtorch-dev 1.13 through lib/native) — then runs
# every workload at every thread count, alternating the two stacks round by round so that both see the same machine.
# The bridge's libtorch (Debian's) calls OpenBLAS, whose own threads libtorch's thread count does not limit: the bridge
# and PyTorch run with OPENBLAS_NUM_THREADS=1 and libtorch's threads set to the thread count, so all three stacks use
# the same cores (OpenBLAS threads inside libtorch threads would oversubscribe them: measured 2.5× slower at 2). Prints medians (wall and
# process CPU time) and the ratio TorchSharp ÷ bridge; the PyTorch row is tests/reference/unet_reference.py bench.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BRIDGE_COMMIT=40860f1
ROUNDS=3; THREADS="1 2"; WORKLOADS="dispatch erasure-step forward-32 train-64 sampling erase-esd erase-ap"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --workloads) WORKLOADS="$2"; shift 2 ;;
    *) echo "engine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
SCRATCH="${BENCH_SCRATCH:-$PWD/.cache/bench-engine}"
mkdir -p "$SCRATCH"
MODEL="$PWD/data/models/foundation"

# 1. the bridge stack: its commit in a worktree, built once
if [[ ! -e "$SCRATCH/bridge/.git" ]]; then
  git worktree add --detach "$SCRATCH/bridge" "$BRIDGE_COMMIT" >/dev/null
fi
project() {   # $1 folder, $2 library project, $3 extra constants
  mkdir -p "$1"
  cp tests/bench/EngineBench.cs "$1/"
  cat > "$1/EngineBench.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings><DefineConstants>\$(DefineConstants);$3</DefineConstants><NoWarn>CS8981</NoWarn></PropertyGroup>
  <ItemGroup><ProjectReference Include="$2" /></ItemGroup>
</Project>
XML
}
project "$SCRATCH/run-bridge" "$SCRATCH/bridge/lib/ConceptErasure/ConceptErasure.csproj" "BRIDGE"
project "$SCRATCH/run-torchsharp" "$PWD/lib/ConceptErasure/ConceptErasure.csproj" "TORCHSHARP"
# the TorchSharp side needs the library's build settings (package versions, the native fix) in its own project
echo "<Project><Import Project=\"$PWD/lib/Directory.Build.props\" /></Project>" > "$SCRATCH/run-torchsharp/Directory.Build.props"
echo "<Project><Import Project=\"$PWD/lib/Directory.Build.targets\" /></Project>" > "$SCRATCH/run-torchsharp/Directory.Build.targets"
echo "building both stacks…" >&2
dotnet build "$SCRATCH/run-bridge" -c Release -nologo -clp:ErrorsOnly -v:q >&2
dotnet build "$SCRATCH/run-torchsharp" -c Release -nologo -clp:ErrorsOnly -v:q >&2
BRIDGE_BIN="$SCRATCH/run-bridge/bin/Release/net10.0/EngineBench.dll"
TS_BIN="$SCRATCH/run-torchsharp/bin/Release/net10.0/EngineBench.dll"

reps_for() { case "$1" in dispatch) echo 7 ;; erasure-step) echo 30 ;; forward-32) echo 15 ;; train-64) echo 8 ;; sampling) echo 2 ;; *) echo 1 ;; esac; }

# 2. alternate the stacks, round by round
OUT="$SCRATCH/results.jsonl"; : > "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for w in $WORKLOADS; do
    [[ "$w" == erase-* && $round -gt 1 ]] && continue   # the erasures are long: one round
    for t in $THREADS; do
      echo "round $round: $w, $t thread(s)…" >&2
      OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$t dotnet "$BRIDGE_BIN" "$w" "$t" "$(reps_for "$w")" "$MODEL" | sed 's/^{/{"stack":"bridge",/' >> "$OUT"
      OMP_NUM_THREADS=$t dotnet "$TS_BIN" "$w" "$t" "$(reps_for "$w")" "$MODEL" | sed 's/^{/{"stack":"torchsharp",/' >> "$OUT"
    done
  done
done

# 3. PyTorch (Debian's 1.13, the same kernels as the bridge's libtorch) on the training step, at the same cores
PY_OUT="$SCRATCH/pytorch.txt"; : > "$PY_OUT"
for t in $THREADS; do
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 tests/reference/unet_reference.py bench --threads "$t" --steps 8 >> "$PY_OUT" 2>&1 || echo "PyTorch bench failed" >> "$PY_OUT"
done

# 4. the table
/usr/bin/python3 - "$OUT" "$PY_OUT" <<'PY'
import json, statistics, sys, re
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda xs: statistics.median(xs)
keys = []
for r in rows:
    k = (r["workload"], r["threads"])
    if k not in keys: keys.append(k)
def pooled(stack, k, field):
    xs = [x for r in rows if r["stack"] == stack and (r["workload"], r["threads"]) == k for x in r[field]]
    return med(xs) if xs else float("nan")
print("| workload | threads | unit | bridge wall | bridge CPU | TorchSharp wall | TorchSharp CPU | TorchSharp ÷ bridge (wall) |")
print("|---|---|---|---|---|---|---|---|")
for k in keys:
    unit = next(r["unit"] for r in rows if (r["workload"], r["threads"]) == k)
    bw, bc, tw, tc = pooled("bridge", k, "wall"), pooled("bridge", k, "cpu"), pooled("torchsharp", k, "wall"), pooled("torchsharp", k, "cpu")
    fmt = (lambda v: f"{v:.2f}") if unit in ("us", "s") else (lambda v: f"{v:.1f}")
    print(f"| {k[0]} | {k[1]} | {unit} | {fmt(bw)} | {fmt(bc)} | {fmt(tw)} | {fmt(tc)} | {tw / bw:.2f} |")
py = open(sys.argv[2]).read()
for m in re.finditer(r"PyTorch [^,]*, (\d+) threads.*?\n(?:.*\n){2}\| train step[^|]*\| 64 \| ([\d.]+) \| ([\d.]+) \|", py):
    t, wall, cpu = int(m.group(1)), float(m.group(2)), float(m.group(3))
    tw = pooled("torchsharp", ("train-64", t), "wall")
    print(f"| train-64 vs PyTorch {py.split()[1].rstrip(',')} (in the bridge columns) | {t} | ms | {wall:.1f} | {cpu:.1f} | {tw:.1f} | | {tw / wall:.2f} |")
PY
