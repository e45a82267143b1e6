#!/usr/bin/env bash
# Two MPI ranks in two network namespaces (first one model split across them, then one model per
# rank as perf_analyzer runs them) and kserve-sim in a third, joined by veth pairs to a
# bridge in a fourth; mpirun runs in a fifth and starts its daemons through `ip netns exec`
# (its remote launcher, --mca plm_rsh_agent), the path a multi-host run takes over ssh. The
# ranks' MPI traffic and their load cross real sockets between namespaces. Nothing changes in
# the namespace this script runs in; every namespace is removed on the way out.
#
# Usage: scripts/test-mpi-netns.sh BIN_DIR   (needs root; exits non-zero on any mismatch)
set -euo pipefail
bin=$(cd "${1:?BIN_DIR}" && pwd)
mpirun=${MPIRUN:-$(command -v mpirun)}
tag="spa$$"
net="$tag-br"
names=(launch a b srv)
declare -A addr=([launch]=10.77.0.10 [a]=10.77.0.11 [b]=10.77.0.12 [srv]=10.77.0.13)
work=$(mktemp -d)
sim=
cleanup() {
    [ -z "$sim" ] || ip netns exec "$tag-srv" kill "$sim" 2>/dev/null || true
    for n in "${names[@]}"; do ip netns del "$tag-$n" 2>/dev/null || true; done
    ip netns del "$net" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# Each daemon would otherwise publish its hardware map in shared memory at an address picked
# from a gap in its own memory layout; on some hosts the pick lands on the stack and the
# daemon dies in hwloc before it reports back. The ranks read the map themselves instead.
export OMPI_MCA_rtc_hwloc_vmhole=none
fail() { echo "[netns] FAIL: $*" >&2; exit 1; }

ip netns add "$net"
ip -n "$net" link add br0 type bridge
ip -n "$net" link set br0 up
for n in "${names[@]}"; do
    ip netns add "$tag-$n"
    ip -n "$net" link add "v-$n" type veth peer name eth0 netns "$tag-$n"
    ip -n "$net" link set "v-$n" master br0 up
    ip -n "$tag-$n" addr add "${addr[$n]}/24" dev eth0
    ip -n "$tag-$n" link set eth0 up
    ip -n "$tag-$n" link set lo up
done

# The launcher: mpirun calls it as a remote shell, `AGENT HOST COMMAND...`.
cat >"$work/netns-rsh" <<AGENT
#!/usr/bin/env bash
host=\$1; shift
case "\$host" in
    ${addr[a]}) ns=$tag-a ;;
    ${addr[b]}) ns=$tag-b ;;
    *) echo "netns-rsh: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" bash -c "\$*"
AGENT
chmod +x "$work/netns-rsh"

ip netns exec "$tag-srv" "$bin/kserve-sim" --host "${addr[srv]}" --http-port 0 --grpc-port 0 --threads 1 >"$work/sim.out" 2>&1 &
sim=$!
for _ in $(seq 100); do grep -q "HTTP listening" "$work/sim.out" && break; sleep 0.1; done
url=$(sed -n 's/.*HTTP listening on \(.*\)/\1/p' "$work/sim.out" | head -n 1)
[ -n "$url" ] || fail "kserve-sim did not start: $(cat "$work/sim.out")"

ip netns exec "$tag-launch" "$mpirun" --allow-run-as-root --oversubscribe --tag-output \
    --host "${addr[a]}:1,${addr[b]}:1" -np 2 \
    --mca plm_rsh_agent "$work/netns-rsh" --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    "$bin/perf-analyzer" --enable-mpi --mpi-split-load -m identity_fp32 -u "$url" --concurrency-range 4 --request-count 400 \
    >"$work/run.out" 2>"$work/run.err" || fail "mpirun exited $?: $(cat "$work/run.err")"
reported=$(sed -n 's/^\[1,0\]<stdout>:.*Request count: \([0-9]*\).*/\1/p' "$work/run.out" | head -n 1)
served=$(ip netns exec "$tag-launch" curl -sf "http://$url/v2/models/identity_fp32/stats" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_stats"][0]["inference_stats"]["success"]["count"])')
echo "[netns] reported $reported, served $served"
[ "$reported" = 400 ] && [ "$served" = 400 ] || fail "expected 400 reported and served; run output: $(cat "$work/run.out" "$work/run.err")"

# perf_analyzer's mode across the same namespaces: one model per rank, each rank reports its own.
ip netns exec "$tag-launch" "$mpirun" --allow-run-as-root --oversubscribe --tag-output \
    --mca plm_rsh_agent "$work/netns-rsh" --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    --host "${addr[a]}:1" -np 1 "$bin/perf-analyzer" --enable-mpi -m identity_fp32 -u "$url" --concurrency-range 2 --request-count 200 \
    : --host "${addr[b]}:1" -np 1 "$bin/perf-analyzer" --enable-mpi -m add_sub -u "$url" --concurrency-range 2 --request-count 300 \
    >"$work/models.out" 2>"$work/models.err" || fail "mpirun (one model per rank) exited $?: $(cat "$work/models.err")"
served_model() {
    ip netns exec "$tag-launch" curl -sf "http://$url/v2/models/$1/stats" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_stats"][0]["inference_stats"]["success"]["count"])'
}
reported_a=$(sed -n 's/^\[1,0\]<stdout>:.*Request count: \([0-9]*\).*/\1/p' "$work/models.out" | head -n 1)
reported_b=$(sed -n 's/^\[1,1\]<stdout>:.*Request count: \([0-9]*\).*/\1/p' "$work/models.out" | head -n 1)
served_a=$(( $(served_model identity_fp32) - served ))
served_b=$(served_model add_sub)
echo "[netns] one model per rank: identity_fp32 reported $reported_a, served $served_a; add_sub reported $reported_b, served $served_b"
[ "$reported_a" = 200 ] && [ "$served_a" = 200 ] && [ "$reported_b" = 300 ] && [ "$served_b" = 300 ] \
    || fail "expected 200 and 300 reported and served; run output: $(cat "$work/models.out" "$work/models.err")"
echo "[netns] ok"
