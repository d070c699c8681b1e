#!/usr/bin/env bash
# The standardised protocol of "Revisiting Training Strategies and Generalization Performance in
# Deep Metric Learning" (Roth, Milbich et al., ICML 2020) as runnable, resumable sweeps.
#
#   bash Revisit_Runs.sh <section> [--source DIR] [--save_path DIR] [--jobs N] [--seeds 0,1,2]
#                                  [--only REGEX] [--dry-run] [--wandb_key KEY] [-- EXTRA MAIN.PY FLAGS]
#
# Sections: cub200, cars196, online_products (the paper: 18 baselines + 5 rho-regularised
# configurations each, 16 + 5 on SOP, seeds 0-4; "paper" runs all three: 335 runs) and glyphs (the same 23 configurations at CPU scale,
# seeds 0-2). A completed run whose saved configuration is the one asked for is skipped; a run left
# "running" by a killed sweep, or one trained for fewer epochs than asked, is continued with
# --resume; a failed run, or one of another configuration, is moved to <dataset>/_superseded/ (and
# said so) and started again. A failed run is reported at the end and never stops the others. A
# second sweep of one section on one --save_path is refused while the first runs.
# --only keeps the groups whose name matches REGEX (grep -E), e.g. --only 'Margin|Triplet'.
# Flags after "--" are appended to every main.py command (e.g. -- --log_online --project MyProject).
# A W&B key (--wandb_key, here or after "--") reaches the runs as WANDB_API_KEY, never on a printed
# or logged command line; better still, export WANDB_API_KEY yourself.
# Environment: PYTHON (interpreter, default: python, else python3); OMP_NUM_THREADS (default with
# --jobs N: the cores divided by N).
set -u
{  # the whole script is one compound command: bash parses it fully before running, so editing
   # this file while a sweep runs cannot break the sweep

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-2}"
}

# ------------------------------------------------------------------------------------------------
# The 23 configurations. Each line is "<group suffix>|<main.py flags>". Per-dataset facts (histogram
# bins, softmax lr, rho_distance cp) come from the variables set by the section below.
# ------------------------------------------------------------------------------------------------
baseline_configs() {
    echo "Npair|--loss npair --batch_mining npair --arch $ARCH_PLAIN"
    echo "GenLifted|--loss lifted --batch_mining lifted --arch $ARCH_PLAIN"
    if [ "$WITH_PROXIES" = 1 ]; then
        echo "ProxyNCA|--loss proxynca --arch $ARCH_NORM"
    fi
    echo "Histogram|--loss histogram --loss_histogram_nbins $HIST_BINS --arch $ARCH_NORM"
    echo "Contrastive|--loss contrastive --batch_mining distance --arch $ARCH_NORM"
    if [ "$WITH_PROXIES" = 1 ]; then
        echo "SoftTriple|--loss softtriplet --arch $ARCH_NORM"
    fi
    echo "Angular|--loss angular --batch_mining npair --arch $ARCH_PLAIN"
    echo "ArcFace|--loss arcface --arch $ARCH_NORM"
    echo "Triplet_Random|--loss triplet --batch_mining random --arch $ARCH_NORM"
    echo "Triplet_Semihard|--loss triplet --batch_mining semihard --arch $ARCH_NORM"
    echo "Triplet_Softhard|--loss triplet --batch_mining softhard --arch $ARCH_NORM"
    echo "Triplet_Distance|--loss triplet --batch_mining distance --arch $ARCH_NORM"
    echo "Quadruplet_Distance|--loss quadruplet --batch_mining distance --arch $ARCH_NORM"
    echo "Margin_b06_Distance|--loss margin --loss_margin_beta 0.6 --batch_mining distance --arch $ARCH_NORM"
    echo "Margin_b12_Distance|--loss margin --loss_margin_beta 1.2 --batch_mining distance --arch $ARCH_NORM"
    echo "SNR_Distance|--loss snr --batch_mining distance --arch $ARCH_NORM"
    echo "MS|--loss multisimilarity --arch $ARCH_NORM"
    echo "Softmax|--loss softmax${SOFTMAX_EXTRA} --arch $ARCH_NORM"
}

rho_configs() {
    local rho="--batch_mining rho_distance --arch $ARCH_NORM --miner_rho_distance_cp"
    echo "reg_Contrastive|--loss contrastive $rho $CP_CONTRASTIVE"
    echo "reg_Margin_b06_Distance|--loss margin --loss_margin_beta 0.6 $rho $CP_MARGIN_B06"
    echo "reg_Margin_b12_Distance|--loss margin --loss_margin_beta 1.2 $rho $CP_MARGIN_B12"
    echo "reg_Triplet_Distance|--loss triplet $rho $CP_TRIPLET"
    echo "reg_SNR_Distance|--loss snr $rho $CP_SNR"
}

set_section() {
    # Paper protocol (CONTRACT §2 presets: ResNet50, frozen BN, 128-d, Adam 1e-5, bs 112 of 2 per class).
    ARCH_NORM=resnet50_frozen_normalize; ARCH_PLAIN=resnet50_frozen
    WITH_PROXIES=1; HIST_BINS=65; SOFTMAX_EXTRA=""; DEFAULT_SEEDS=0,1,2,3,4; NEEDS_SOURCE=1
    COMMON="--bs 112 --samples_per_class 2"      # --kernels: main.py's default, one worker per core
    case "$1" in
        cub200)
            DATASET=cub200; PREFIX=CUB; EPOCHS=150
            CP_CONTRASTIVE=0.4; CP_MARGIN_B06=0.4; CP_MARGIN_B12=0.35; CP_TRIPLET=0.4; CP_SNR=0.3 ;;
        cars196)
            DATASET=cars196; PREFIX=CARS; EPOCHS=150
            CP_CONTRASTIVE=0.35; CP_MARGIN_B06=0.35; CP_MARGIN_B12=0.35; CP_TRIPLET=0.35; CP_SNR=0.35 ;;
        online_products)
            DATASET=online_products; PREFIX=SOP; EPOCHS=100; WITH_PROXIES=0; HIST_BINS=11
            SOFTMAX_EXTRA=" --loss_softmax_lr 0.002"
            CP_CONTRASTIVE=0.15; CP_MARGIN_B06=0.15; CP_MARGIN_B12=0.15; CP_TRIPLET=0.15; CP_SNR=0.15 ;;
        glyphs)
            # CPU scale: the fast glyphs preset (small convnet, Adam 1e-3, 64-d) with the paper's
            # batch protocol, 6 epochs, test-only evaluation every epoch, CUB's rho_distance cp.
            DATASET=glyphs; PREFIX=GLY; EPOCHS=6; NEEDS_SOURCE=0; DEFAULT_SEEDS=0,1,2
            ARCH_NORM=convnet_normalize; ARCH_PLAIN=convnet
            COMMON="--kernels 0 --bs 112 --samples_per_class 2 --no_train_metrics --evaluation_metrics"
            COMMON="$COMMON e_recall@1 e_recall@2 e_recall@4 nmi f1 map_at_r rho_spectrum@2"
            CP_CONTRASTIVE=0.4; CP_MARGIN_B06=0.4; CP_MARGIN_B12=0.35; CP_TRIPLET=0.4; CP_SNR=0.3 ;;
        *)
            echo "Revisit_Runs.sh: unknown section '$1' (valid: cub200, cars196, online_products, paper, glyphs)" >&2
            exit 2 ;;
    esac
}

# ------------------------------------------------------------------------------------------------
# Arguments
# ------------------------------------------------------------------------------------------------
[ $# -ge 1 ] || usage 2
case "$1" in -h|--help) usage 0 ;; esac
SECTION=$1; shift
if [ "$SECTION" = paper ]; then  # all three paper datasets, one after the other
    status=0
    for section in cub200 cars196 online_products; do bash "$0" "$section" "$@" || status=$?; done
    exit $status
fi
set_section "$SECTION"
SOURCE=${DATAPATH:-}
SAVE_PATH=Training_Results
JOBS=1
DRY_RUN=0
SEEDS=$DEFAULT_SEEDS
ONLY=""
WANDB_KEY=""
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --source|--source_path) SOURCE=${2:?--source needs a folder}; shift 2 ;;
        --save_path) SAVE_PATH=${2:?--save_path needs a folder}; shift 2 ;;
        --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
        --seeds) SEEDS=${2:?--seeds needs a list such as 0,1,2}; shift 2 ;;
        --only) ONLY=${2:?--only needs a regular expression}; shift 2 ;;
        --dry-run|--dry_run) DRY_RUN=1; shift ;;
        --wandb_key) WANDB_KEY=${2:?--wandb_key needs a key}; shift 2 ;;
        --wandb_key=*) WANDB_KEY=${1#*=}; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) usage 0 ;;
        *) echo "Revisit_Runs.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$JOBS" =~ ^[1-9][0-9]*$ ]]; then
    echo "Revisit_Runs.sh: --jobs must be a positive integer, got '$JOBS'" >&2; exit 2
fi
if ! [[ "$SEEDS" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
    echo "Revisit_Runs.sh: --seeds must be a comma-separated list of integers, got '$SEEDS'" >&2; exit 2
fi
if [ "$NEEDS_SOURCE" = 1 ] && [ -z "$SOURCE" ] && [ "$DRY_RUN" = 0 ]; then
    echo "Revisit_Runs.sh: section $SECTION needs --source DIR (or the DATAPATH variable)" >&2; exit 2
fi
IFS=, read -r -a SEED_LIST <<< "$SEEDS"
# The W&B key leaves the main.py flags (and any argparse abbreviation of --wandb_key with it) and
# travels in the environment: command lines are printed (--dry-run), logged, and visible in ps.
KEPT=()
i=0
while [ $i -lt ${#EXTRA[@]} ]; do
    arg=${EXTRA[$i]}; name=${arg%%=*}
    if [ ${#name} -ge 4 ] && [[ "--wandb_key" == "$name"* ]]; then
        if [ "$name" != "$arg" ]; then WANDB_KEY=${arg#*=}; else i=$((i + 1)); WANDB_KEY=${EXTRA[$i]:-}; fi
    else
        KEPT+=("$arg")
    fi
    i=$((i + 1))
done
EXTRA=("${KEPT[@]}")
if [ -n "$WANDB_KEY" ] && [ -z "${WANDB_API_KEY:-}" ]; then  # main.py's order: the environment first
    export WANDB_API_KEY=$WANDB_KEY
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAIN=main.py
if [ "$HERE" != "$(pwd)" ]; then MAIN="$HERE/main.py"; fi
if [ -z "${PYTHON:-}" ]; then
    if command -v python >/dev/null 2>&1; then PYTHON=python; else PYTHON=python3; fi
fi
if [ "$NEEDS_SOURCE" = 1 ] && [ "$DRY_RUN" = 0 ]; then
    # main.py's own check of the data folder, once, before any run: a typo in --source would
    # otherwise fail every run one by one.
    if ! problem=$("$PYTHON" "$MAIN" --dataset "$DATASET" --source "$SOURCE" --print_config 2>&1 >/dev/null); then
        problem=$(printf '%s\n' "$problem" | tail -n 1)
        echo "Revisit_Runs.sh: --source $SOURCE: ${problem##*error: }" >&2; exit 2
    fi
fi

# ------------------------------------------------------------------------------------------------
# The run list: one line per run, "<group>\t<seed>\t<flags>".
# ------------------------------------------------------------------------------------------------
RUNS=()
while IFS='|' read -r suffix flags; do
    case "$suffix" in reg_*) group="${PREFIX}${suffix}" ;; *) group="${PREFIX}_${suffix}" ;; esac
    if [ -n "$ONLY" ] && ! [[ "$group" =~ $ONLY ]]; then continue; fi
    for seed in "${SEED_LIST[@]}"; do
        RUNS+=("$group"$'\t'"$seed"$'\t'"$flags")
    done
done < <(baseline_configs; rho_configs)

command_for() {  # group seed flags [resume folder] -> the argv of one run, in CMD
    local group=$1 seed=$2 flags=$3 resume=${4:-}
    # shellcheck disable=SC2206  # flags are plain words by construction
    CMD=("$MAIN" --dataset "$DATASET" --n_epochs "$EPOCHS" $COMMON $flags --project RevisitDML
         --group "$group" --seed "$seed" --save_path "$SAVE_PATH")
    if [ -n "$SOURCE" ]; then CMD+=(--source "$SOURCE"); fi
    if [ -n "$resume" ]; then CMD+=(--resume "$resume"); fi
    CMD+=("${EXTRA[@]}")
}

run_state() {  # folder flags... -> STATE (new | completed | resumable | extend | stale | differs | error), REASON
    # A folder holding a run is judged by its run record (sweep_state.py): it satisfies the entry
    # only if its saved configuration is the one asked for. resumable: killed or stopped by a
    # signal; extend: complete but shorter than asked; both continue with --resume. stale (failed
    # for a reason of its own) and differs (another configuration) are moved aside and run again.
    local folder=$1; shift
    REASON=""
    if [ ! -f "$folder/summary.json" ] && [ ! -f "$folder/config.json" ]; then STATE=new; return; fi
    IFS=$'\t' read -r STATE REASON < <("$PYTHON" "$HERE/sweep_state.py" "$folder" "$@" 2>&1 | tail -n 1)
    case "$STATE" in new|completed|resumable|extend|stale|differs|error) ;; *) REASON=$STATE; STATE=error ;; esac
}

# ------------------------------------------------------------------------------------------------
# Dry run: print the commands of the runs still to do.
# ------------------------------------------------------------------------------------------------
if [ "$DRY_RUN" = 1 ]; then
    n_skip=0
    for run in "${RUNS[@]}"; do
        IFS=$'\t' read -r group seed flags <<< "$run"
        folder="$SAVE_PATH/$DATASET/${group}_s${seed}"
        command_for "$group" "$seed" "$flags"
        run_state "$folder" "${CMD[@]:1}"
        if [ "$STATE" = completed ]; then
            n_skip=$((n_skip + 1)); echo "# completed, skipped: ${group}_s${seed}" >&2; continue
        fi
        resume=""
        case "$STATE" in
            resumable|extend) resume=$folder ;;
            stale|differs) echo "# would move $folder to $DATASET/_superseded/ (${REASON:-$STATE})" >&2 ;;
            error) echo "# ${group}_s${seed}: $REASON" >&2 ;;
        esac
        command_for "$group" "$seed" "$flags" "$resume"
        printf '%s' "$PYTHON"; printf ' %q' "${CMD[@]}"; printf '\n'
    done
    echo "# $SECTION: ${#RUNS[@]} runs, $n_skip already completed" >&2
    if [ -n "$WANDB_KEY" ]; then
        echo "# the W&B key is not shown: the runs get it as WANDB_API_KEY (export it to run these)" >&2
    fi
    exit 0
fi

# ------------------------------------------------------------------------------------------------
# Execution: N at a time, each logged to <save_path>/_logs/<section>/<run>.log.
# ------------------------------------------------------------------------------------------------
LOG_DIR="$SAVE_PATH/_logs/$SECTION"
if [ -z "${OMP_NUM_THREADS:-}" ] && [ "$JOBS" -gt 1 ]; then  # share the cores instead of oversubscribing
    cores=$(nproc 2>/dev/null || echo "$JOBS")
    export OMP_NUM_THREADS=$(( cores / JOBS > 0 ? cores / JOBS : 1 ))
fi
mkdir -p "$LOG_DIR" || exit 2
# One sweep per section and --save_path: a second one would rerun the first's live runs and
# truncate their logs. The lock is held while this script or any run it started lives.
if command -v flock >/dev/null 2>&1; then
    exec 9>>"$LOG_DIR/.sweep.lock"
    if ! flock -n 9; then
        echo "Revisit_Runs.sh: another $SECTION sweep is running on --save_path $SAVE_PATH" \
             "(pid $(cat "$LOG_DIR/.sweep.lock" 2>/dev/null || echo '?')); wait for it or choose another --save_path" >&2
        exit 2
    fi
    echo $$ > "$LOG_DIR/.sweep.lock"
fi
STATUS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/revisit_runs.XXXXXX")
stop_runs() {  # SIGINT/SIGTERM: pass SIGTERM to every running main.py (each records "interrupted"), wait, exit
    trap '' INT TERM
    echo "Revisit_Runs.sh: interrupted; stopping running jobs" >&2
    for pidfile in "$STATUS_DIR"/*.pid; do
        [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null
    done
    wait
    rm -rf "$STATUS_DIR"
    exit "$1"
}
trap 'stop_runs 130' INT
trap 'stop_runs 143' TERM

n_skip=0; n_started=0
for run in "${RUNS[@]}"; do
    IFS=$'\t' read -r group seed flags <<< "$run"
    name="${group}_s${seed}"
    folder="$SAVE_PATH/$DATASET/$name"
    command_for "$group" "$seed" "$flags"
    run_state "$folder" "${CMD[@]:1}"
    resume=""
    case "$STATE" in
        completed) n_skip=$((n_skip + 1)); continue ;;
        resumable) resume=$folder ;;
        extend) resume=$folder; echo "extending $folder ($REASON)" ;;
        stale|differs)
            aside="$SAVE_PATH/$DATASET/_superseded/${name}_$(date +%Y%m%d-%H%M%S)"
            mkdir -p "$(dirname "$aside")" && mv "$folder" "$aside"
            if [ "$STATE" = stale ]; then
                echo "moved the unfinished $folder to $aside"
            else
                echo "moved $folder to $aside: not the run this sweep asks for ($REASON)"
            fi ;;
        error) echo "$name: $REASON" ;;
    esac
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n 2>/dev/null || sleep 1; done
    command_for "$group" "$seed" "$flags" "$resume"
    log="$LOG_DIR/$name.log"
    echo "[$(date +%H:%M:%S)] start $name${resume:+ (resume)}"
    (   # the run in the background, its pid on file for stop_runs; the subshell records its exit code
        "$PYTHON" "${CMD[@]}" > "$log" 2>&1 &
        echo $! > "$STATUS_DIR/$name.pid"
        wait $!
        echo $? > "$STATUS_DIR/$name"
        rm -f "$STATUS_DIR/$name.pid"
    ) &
    n_started=$((n_started + 1))
done
wait

failed=()
for run in "${RUNS[@]}"; do
    IFS=$'\t' read -r group seed _ <<< "$run"
    name="${group}_s${seed}"
    if [ -f "$STATUS_DIR/$name" ] && [ "$(cat "$STATUS_DIR/$name")" != 0 ]; then failed+=("$name"); fi
done
rm -rf "$STATUS_DIR"
echo
echo "$SECTION: ${#RUNS[@]} runs: $n_skip already completed, $n_started run now, ${#failed[@]} failed."
if [ ${#failed[@]} -gt 0 ]; then
    echo "Failed runs (log, then its last line):"
    for name in "${failed[@]}"; do
        echo "  $name  $LOG_DIR/$name.log"
        echo "      $(grep -v '^[[:space:]]*$' "$LOG_DIR/$name.log" | tail -n 1)"
    done
    exit 1
fi
exit 0
}
