#!/usr/bin/env python3
"""damo-policy beside damo, on the same work, in one run (driven by benches/compare.sh).

Sections, each measured now, never copied from an earlier run:
 1. configuration conversion: `damo args damon … --format json` vs `damo-policy compile
    --format sysfs`, 1/10/100 schemes, median process wall time of RUNS runs each;
 2. validation at scale: benches/check-scale.sh (10, 1,000, 10,000 files);
 3. kernel writes on a real 6.12 kernel under qemu: damo start/tune vs damo-policy apply
    (benches/vm/: the host's root over 9p, so both tools run as installed here);
 4. hot reload: `cargo bench --bench reload`;
 5. footprint: peak resident memory (GNU time's %M) of each tool's process for the same job,
    and the idle watcher (benches/watch-idle.sh, and both long-running processes in the VM).

damo runs on this host only inside a private mount namespace with an empty tmpfs over
/sys/kernel/mm/damon (it probes DAMON by staging a dummy kdamond); the host's DAMON is read
before and after, and the run fails if it changed. Everything that writes DAMON runs in the VM.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(REPO, 'target', 'bench-compare')
DP = os.path.join(REPO, 'target', 'release', 'damo-policy')
DAMO = os.path.join(REPO, 'target', 'damo-venv', 'bin', 'damo')
GNU_TIME = '/usr/bin/time'
HOST_DAMON = '/sys/kernel/mm/damon/admin/kdamonds'
SIZES = [1, 10, 100]
KERNEL = '6.12'
# damo runs with an empty tmpfs over the host's DAMON sysfs, or not at all (exit 99).
ISOLATE = 'mount -t tmpfs none /sys/kernel/mm/damon || exit 99; exec "$@"'


def say(*args):
    print('compare:', *args, file=sys.stderr, flush=True)


def die(message):
    say('error:', message)
    sys.exit(1)


def isolated(argv):
    return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', ISOLATE, 'sh', *argv]


def host_damon():
    """The host's DAMON as seen now (read only): nr_kdamonds and each kdamond's state."""
    try:
        nr = int(open(os.path.join(HOST_DAMON, 'nr_kdamonds')).read())
    except OSError:
        return 'absent'
    states = []
    for k in range(nr):
        try:
            states.append(open(os.path.join(HOST_DAMON, str(k), 'state')).read().strip())
        except OSError:
            states.append('?')
    return f'nr_kdamonds={nr} states={",".join(states) or "-"}'


def run_ok(argv, env=None, stdout=subprocess.DEVNULL, what=None):
    result = subprocess.run(argv, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if result.returncode == 99 and argv[0] == 'unshare':
        die('cannot mount a tmpfs over /sys/kernel/mm/damon in a private namespace; damo is not run')
    if result.returncode != 0:
        die(f'{what or argv[0]} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}')
    return result


def wall_ms(argv, env=None):
    start = time.perf_counter()
    run_ok(argv, env=env)
    return (time.perf_counter() - start) * 1000


def medians(commands, runs, env=None):
    """Median wall time (ms) of each named command over `runs` runs, interleaved so that
    drift of a shared machine spreads over all of them alike; one warm-up run each first."""
    times = {name: [] for name in commands}
    for name, argv in commands.items():
        wall_ms(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall_ms(argv, env))
    return {name: statistics.median(t) for name, t in times.items()}


def peak_kib(argv, env=None):
    """Peak resident memory of the command's processes (GNU time %M, KiB)."""
    with tempfile.NamedTemporaryFile('r') as f:
        run_ok([GNU_TIME, '-f', '%M', '-o', f.name, *argv], env=env, what=argv[0])
        return int(f.read().strip().splitlines()[-1])


def fmt_ms(ms):
    if ms >= 100:
        return f'{ms:,.0f} ms'
    if ms >= 10:
        return f'{ms:.1f} ms'
    return f'{ms:.2f} ms'


def fmt_mib(kib):
    return f'{kib / 1024:.1f} MiB'


def table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' if i == 0 else '---:' for i in range(len(header))) + '|']
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def generate_inputs():
    inputs = os.path.join(OUT, 'inputs')
    shutil.rmtree(inputs, ignore_errors=True)
    gen = os.path.join(REPO, 'benches', 'compare', 'gen.py')
    for n in SIZES:
        run_ok([sys.executable, gen, str(n), os.path.join(inputs, f'n{n}')])
        run_ok([sys.executable, gen, str(n), os.path.join(inputs, f'n{n}-changed'), '--age0', '30'])
        for d in (f'n{n}', f'n{n}-changed'):
            run_ok([DP, 'check', os.path.join(inputs, d, 'policy'), '--kernel', KERNEL, '--deny-warnings'],
                   what=f'damo-policy check of the generated {d}')
        with open(os.path.join(inputs, f'n{n}', 'kdamonds.json'), 'w') as f:
            run_ok([DP, 'compile', os.path.join(inputs, f'n{n}', 'policy'), '--format', 'damo-json',
                    '--kernel', KERNEL], stdout=f)
    return inputs


def damo_args(inputs, n, changed=False):
    with open(os.path.join(inputs, f'n{n}' + ('-changed' if changed else ''), 'damo.args')) as f:
        return f.read().split()


def sysfs_lines(path):
    out = run_ok([DP, 'compile', path, '--format', 'sysfs', '--kernel', KERNEL], stdout=subprocess.PIPE).stdout
    return [line for line in out.splitlines() if not line.startswith('#')]


# 1. Configuration conversion ----------------------------------------------------------------

def conversion(inputs, runs, env):
    rows, results, checks = [], {}, []
    for n in SIZES:
        d = os.path.join(inputs, f'n{n}')
        # The two configurations are the same: damo's output, read back by damo-policy's
        # importer, compiles to exactly the sysfs writes of the policy.
        printed = run_ok(isolated([DAMO, 'args', 'damon', *damo_args(inputs, n), '--format', 'json']),
                         env=env, stdout=subprocess.PIPE).stdout
        with open(os.path.join(d, 'damo-args.json'), 'w') as f:
            f.write(printed)
        imported = os.path.join(d, 'imported')
        shutil.rmtree(imported, ignore_errors=True)
        run_ok([DP, 'import', os.path.join(d, 'damo-args.json'), '-o', imported, '--kernel', KERNEL])
        a, b = sysfs_lines(os.path.join(d, 'policy')), sysfs_lines(imported)
        if a != b:
            die(f'{n} scheme(s): damo\'s configuration is not the policy\'s '
                f'(first difference: {next((x, y) for x, y in zip(a + [""], b + [""]) if x != y)})')
        checks.append(f'{n}: {len(a)} writes')
        m = medians({
            'damo': isolated([DAMO, 'args', 'damon', *damo_args(inputs, n), '--format', 'json']),
            'damo_kdamonds': isolated([DAMO, 'args', 'damon', '--kdamonds', os.path.join(d, 'kdamonds.json'),
                                       '--format', 'json']),
            'unshare': isolated(['true']),
            'dp': [DP, 'compile', os.path.join(d, 'policy'), '--format', 'sysfs', '--kernel', KERNEL],
            'true': ['true'],
        }, runs, env)
        results[n] = m
        net = m['damo'] - m['unshare']
        rows.append([f'{n}', fmt_ms(m['damo']), f"{fmt_ms(m['damo_kdamonds'])} ({m['damo_kdamonds'] / m['dp']:.0f}×)",
                     fmt_ms(m['unshare']),
                     fmt_ms(m['dp']), f"{m['damo'] / m['dp']:.0f}×", f"{net / m['dp']:.0f}×"])
    text = table(['schemes', 'damo `args damon` (options)', 'damo `args damon --kdamonds` (ratio)',
                  'namespace baseline', 'damo-policy `compile`', 'ratio (options)', 'ratio, damo − baseline'], rows)
    spawn = statistics.median(results[n]['true'] for n in SIZES)
    text += (f'\n\nMedian process wall time of {runs} runs each (interleaved, one warm-up). damo runs as '
             '`unshare --mount … sh -c \'mount -t tmpfs …; exec damo …\'`, so that it cannot stage its '
             'probe kdamond on this machine (it finds an empty DAMON directory there, so its probe costs '
             'little); the namespace baseline is that wrapper around `true`. '
             f'Spawning `true` from the driver: {fmt_ms(spawn)}. Same configuration checked in this run: '
             'damo\'s JSON output, imported with `damo-policy import`, compiles to the same sysfs writes '
             f'as the policy ({"; ".join(checks)}).')
    return text, results


# 2. Validation at scale ----------------------------------------------------------------------

def check_scale(runs):
    env = dict(os.environ, RUNS=str(runs))
    out = run_ok(['bash', os.path.join(REPO, 'benches', 'check-scale.sh'), '10', '1000', '10000'],
                 env=env, stdout=subprocess.PIPE, what='benches/check-scale.sh').stdout
    rows, prev = [], None
    for line in out.splitlines():
        m = re.match(r'^(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x$', line.strip())
        if not m:
            continue
        n, t, per, cat, ratio = int(m[1]), float(m[2]), float(m[3]), float(m[4]), float(m[5])
        growth = '' if prev is None else f'{t / prev[1]:.1f}× time for {n / prev[0]:.0f}× files'
        rows.append([f'{n:,}', fmt_ms(t), f'{per:,.1f} µs', fmt_ms(cat), f'{ratio:.1f}×', growth])
        prev = (n, t)
    if len(rows) != 3:
        die(f'unexpected output of benches/check-scale.sh:\n{out}')
    one = next((line for line in out.splitlines() if line.startswith('one small file')), '')
    text = table(['files', '`check`', 'per file', '`cat` of the files', 'check / cat', 'growth'], rows)
    text += (f'\n\n`benches/check-scale.sh` (RUNS={runs}): median wall time of `damo-policy check` on N example '
             'policies, beside `cat` of the same files in the same run. ' + one)
    return text


# 3. Kernel writes in the VM ------------------------------------------------------------------

def vm_cache():
    return os.environ.get('DAMO_POLICY_VM_CACHE', os.path.join(os.environ.get('HOME', '/root'), '.cache/damo-policy-vm'))


def run_vm(inputs, timeout):
    cache = vm_cache()
    kernel_dir = os.path.join(cache, KERNEL)
    if not os.path.isfile(os.path.join(kernel_dir, 'release')):
        say('fetching the VM kernels (tests/vm/fetch-kernels.sh)')
        run_ok(['bash', os.path.join(REPO, 'tests', 'vm', 'fetch-kernels.sh')], what='tests/vm/fetch-kernels.sh')
    release = open(os.path.join(kernel_dir, 'release')).read().strip()
    modules = os.path.join(os.environ.get('DAMO_POLICY_BENCH_CACHE', os.path.join(cache, 'bench-9p')), release)
    run_ok(['bash', os.path.join(REPO, 'benches', 'vm', 'fetch-9p-modules.sh'), kernel_dir, modules],
           what='benches/vm/fetch-9p-modules.sh')
    initramfs = os.path.join(OUT, 'initramfs.cpio')
    run_ok(['bash', os.path.join(REPO, 'benches', 'vm', 'build-initramfs.sh'), initramfs, modules],
           what='benches/vm/build-initramfs.sh')
    results, console = os.path.join(OUT, 'results.log'), os.path.join(OUT, 'console.log')
    for f in (results, console):
        if os.path.exists(f):
            os.remove(f)
    args = ','.join([inputs] + [str(n) for n in SIZES])
    qemu = ['qemu-system-x86_64', '-accel', 'tcg', '-smp', '2', '-m', '1024', '-nographic', '-no-reboot',
            '-nic', 'none', '-serial', 'mon:stdio', '-serial', f'file:{results}',
            '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
            '-kernel', os.path.join(kernel_dir, 'vmlinuz'), '-initrd', initramfs,
            '-append', f'console=ttyS0 quiet panic=-1 bench.repo={REPO} bench.args={args}']
    say(f'booting {release} under qemu (TCG); console: {console}')
    start = time.monotonic()
    with open(console, 'w') as log:
        try:
            subprocess.run(qemu, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            die(f'the VM did not finish within {timeout} s; see {console}')
    elapsed = time.monotonic() - start
    lines = open(results, errors='replace').read().replace('\r', '').splitlines()
    bench = [line[len('BENCH '):] for line in lines if line.startswith('BENCH ')]
    errors = [line for line in lines if line.startswith('BENCH-ERROR') or line.startswith('BENCH error=')]
    if errors or 'done' not in bench:
        die(f'the VM benchmark failed ({"; ".join(errors) or "no end marker"}); see {console}')
    return release, bench, elapsed


def fields(line):
    """`word key=value ...` as a dict; a leading bare word is the record's `kind`."""
    record = {}
    for part in line.split():
        if '=' in part:
            key, value = part.split('=', 1)
            record[key] = value
        else:
            record.setdefault('kind', part)
    return record


def kernel_writes(release, bench, elapsed, damo_version):
    records = [fields(line) for line in bench]
    get = lambda **kw: next((r for r in records if all(r.get(k) == v for k, v in kw.items())), None)
    for r in records:
        if r.get('rc', '0') != '0':
            die(f'a command failed in the VM: {r}')
    rows, apply_rss = [], {}

    def ratio(dw, pw):
        return f'{dw / pw:.2f}×' if pw else ('no writes' if not dw else f'{dw:,} vs 0')

    first_d, first_p = get(kind='first', tool='damo'), get(kind='first', tool='damo-policy')
    damo_probe = int(first_d['writes']) - int(get(n='1', tool='damo', step='scratch')['writes'])
    dp_probe = int(first_p['writes']) - int(first_p['applied'])
    rows.append(['any', 'feature probe (first run on a boot)', f'{damo_probe:,}', f'{dp_probe:,}',
                 ratio(damo_probe, dp_probe), '', '', ''])
    for n in SIZES:
        for step, label in (('scratch', 'from scratch'), ('change', 'one field changed'), ('unchanged', 'unchanged')):
            d, p = get(n=str(n), tool='damo', step=step), get(n=str(n), tool='damo-policy', step=step)
            dw, pw = int(d['writes']), int(p['writes'])
            if int(p['plan_ops']) != pw:
                die(f'damo-policy applied {pw} writes but planned {p["plan_ops"]} ({n} schemes, {step})')
            dm, pm = float(d['ms']), float(p['ms'])
            rows.append([f'{n}', label, f'{dw:,}', f'{pw:,}', ratio(dw, pw),
                         fmt_ms(dm), fmt_ms(pm), f'{dm / pm:.0f}×'])
            if step == 'scratch':
                apply_rss[n] = (int(d['rss_kib']), int(p['rss_kib']))
    text = table(['schemes', 'apply', 'damo writes', 'damo-policy writes', 'damo / damo-policy',
                  'damo wall', 'damo-policy wall', 'wall ratio'], rows)
    notes = [f'Real kernel {release} under qemu (TCG, 2 vCPUs, no KVM; {elapsed:.0f} s for the whole boot). '
             f'{damo_version} and damo-policy both run from this host\'s root, mounted read-only over virtio-9p, '
             'so Python\'s start-up dominates damo\'s wall time, and each command ran once: read the write '
             'counts, not the times.',
             'damo: `damo start OPTIONS`, then `damo tune OPTIONS` with scheme 0\'s minimum age changed, then the '
             'same `damo tune` again, with its feature probe cached (`~/.damo.sysinfo`); writes counted from its '
             '`--debug_damon` log. damo-policy: `apply` of the policy directory, the same edit, `apply` again, '
             'each time from a new state directory; writes from its `applied: N write(s)` line, equal in every row '
             'to the operations `plan --format json` listed beforehand. Neither count includes the feature probe, '
             'which each tool makes once per boot and caches; its row comes from each tool\'s first start on the '
             f'boot (1 scheme): damo {int(first_d["writes"]):,} writes in all, damo-policy {int(first_p["writes"]):,} '
             f'counted by strace, {first_p["applied"]} of them reported as applied.']
    trees, leaves = [], set()
    for n in SIZES:
        first, changed = get(n=str(n), compare='tree'), get(n=str(n), compare='tree-changed')
        for r in (first, changed):
            leaves |= {re.sub(r'\(\d+\)$', '', x) for x in (r.get('which') or '').split(',') if x}
        same = (first['differing'], first.get('which')) == (changed['differing'], changed.get('which'))
        trees.append(f'{n} scheme(s): {first["differing"]} of {first["files"]} ({first.get("which") or "none"})'
                     + ('' if same else f', after the change {changed["differing"]} ({changed.get("which") or "none"})'))
    expected = {'access_pattern/age/max', 'access_pattern/nr_accesses/max', 'quotas/reset_interval_ms'}
    why = ('These are the unbounded bounds, which damo computes beyond the kernel\'s 32-bit range (so they wrap) '
           'and damo-policy writes as 4294967295, and the reset interval of a scheme without quota (damo `max`, '
           'damo-policy 0); every other value is equal.' if leaves <= expected else
           f'UNEXPECTED: files other than the known unbounded bounds differ: {", ".join(sorted(leaves - expected))}.')
    notes.append('The kernel trees both tools configured, compared value file by value file after the first start '
                 'and after the change: ' + '; '.join(trees) + '. ' + why)
    big = str(SIZES[-1])
    only_dp, only_damo = get(n=big, **{'written-by': 'damo-policy-only'}), get(n=big, **{'written-by': 'damo-only'})
    if only_dp and only_damo:
        notes.append(f'From scratch with {big} schemes, files that only damo-policy wrote (damo leaves them at the '
                     f'values the kernel gives a new directory): {only_dp.get("which") or "none"}; files that only '
                     f'damo wrote: {only_damo.get("which") or "none"}.')
    st = {r['tool']: r for r in records if r.get('kind') == 'strace'}
    if st:
        notes.append('Cross-check with one instrument for both (strace: write(2) calls on files under DAMON\'s '
                     f'sysfs; {st["damo"]["n"]} schemes from scratch, each tool\'s probe cache empty for '
                     f'damo-policy only): damo {int(st["damo"]["writes"]):,} (its log: {int(st["damo"]["log"]):,}), '
                     f'damo-policy {int(st["damo-policy"]["writes"]):,} (its output: '
                     f'{int(st["damo-policy"]["log"]):,}, plus the {dp_probe} of its probe).')
    idle = {r['tool']: int(r['rss_kib']) for r in records if r.get('kind') == 'idle'}
    idle['n'] = next((int(r['n']) for r in records if r.get('kind') == 'idle'), 0)
    return text + '\n\n' + '\n\n'.join(notes), apply_rss, idle


# 4. Hot reload -------------------------------------------------------------------------------

def reload_bench():
    out = run_ok(['cargo', 'bench', '-q', '--bench', 'reload'], stdout=subprocess.PIPE,
                 what='cargo bench --bench reload').stdout
    keep = [line.rstrip() for line in out.splitlines()
            if re.search(r'reload latency|median|p99|baseline|burst', line)]
    if len(keep) < 4:
        die(f'unexpected output of cargo bench --bench reload:\n{out}')
    return '```\n' + '\n'.join(keep) + '\n```'


# 5. Footprint --------------------------------------------------------------------------------

def check_dir(n):
    """n policy files, the examples renamed, as benches/check-scale.sh makes them."""
    d = os.path.join(OUT, f'check-{n}')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(os.path.join(REPO, 'policies', 'damo-policy.toml'), d)
    examples = sorted(p for p in os.listdir(os.path.join(REPO, 'policies'))
                      if p.endswith('.toml') and p != 'damo-policy.toml')
    texts = [open(os.path.join(REPO, 'policies', p)).read() for p in examples]
    for i in range(n):
        text = re.sub(r'^name = "(.*)"', lambda m: f'name = "{m[1]}-{i}"', texts[i % len(texts)], flags=re.M)
        with open(os.path.join(d, f'p{i:05d}.toml'), 'w') as f:
            f.write(text)
    return d


def watch_idle():
    out = run_ok(['bash', os.path.join(REPO, 'benches', 'watch-idle.sh')], stdout=subprocess.PIPE,
                 what='benches/watch-idle.sh').stdout
    m = re.search(r'CPU (\d+) tick.*?resident memory (\d+) KiB', out)
    b = re.search(r'baseline `sleep`: CPU \d+ tick\(s\), resident (\d+) KiB', out)
    if not m or not b:
        die(f'unexpected output of benches/watch-idle.sh:\n{out}')
    return int(m[1]), int(m[2]), int(b[1]), out.strip().splitlines()[0]


def footprint(inputs, env, apply_rss, idle, release):
    n = SIZES[-1]
    d = os.path.join(inputs, f'n{n}')
    damo_args_kib = peak_kib(isolated([DAMO, 'args', 'damon', *damo_args(inputs, n), '--format', 'json']), env)
    unshare_kib = peak_kib(isolated(['true']), env)
    compile_kib = peak_kib([DP, 'compile', os.path.join(d, 'policy'), '--format', 'sysfs', '--kernel', KERNEL])
    check_kib = peak_kib([DP, 'check', os.path.join(d, 'policy'), '--kernel', KERNEL])
    big = check_dir(10000)
    check_big_kib = peak_kib([DP, 'check', big])
    shutil.rmtree(big)
    ticks, watch_kib, sleep_kib, watch_line = watch_idle()
    ratio = lambda a, b: f'{a / b:.1f}×'
    rows = [
        [f'convert {n} schemes (`compile` / `args damon`)', fmt_mib(compile_kib), fmt_mib(damo_args_kib), ratio(damo_args_kib, compile_kib)],
        [f'validate {n} schemes (`check`, 1 file)', fmt_mib(check_kib), '—', ''],
        ['validate 10,000 files (`check`)', fmt_mib(check_big_kib), '—', ''],
    ]
    if apply_rss:
        dk, pk = apply_rss[n]
        rows.append([f'apply {n} schemes on {release} (`apply` / `start`)', fmt_mib(pk), fmt_mib(dk), ratio(dk, pk)])
    if idle:
        rows.append([f'long-running, idle, {idle["n"]} schemes on {release} (`apply --watch` / `schemes`)',
                     fmt_mib(idle['damo-policy']), fmt_mib(idle['damo']), ratio(idle['damo'], idle['damo-policy'])])
    rows.append(['idle watcher, `benches/watch-idle.sh` (empty directory)', fmt_mib(watch_kib), '—',
                 f'{ratio(watch_kib, sleep_kib)} a `sleep`'])
    text = table(['job', 'damo-policy', 'damo', 'damo / damo-policy'], rows)
    text += (f'\n\nPeak resident memory (GNU time `%M`, the largest of the command\'s processes; mapped pages of '
             f'damo-policy\'s {os.path.getsize(DP) / 2**20:.0f} MiB binary and of Python\'s modules count), one run each; '
             f'for the long-running processes, VmRSS 5 s after the kdamond is on. damo\'s `args damon` includes the '
             f'namespace wrapper, whose own peak is {fmt_mib(unshare_kib)}. Idle watcher: {watch_line}')
    return text


# ---------------------------------------------------------------------------------------------

def machine():
    model = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), '?')
    return f'nproc {os.cpu_count()}, model name {model}, {platform.system()} {platform.release()}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=int(os.environ.get('RUNS', 21)))
    parser.add_argument('--no-vm', action='store_true', help='skip section 3 (the VM)')
    parser.add_argument('--sections', default='1,2,3,4,5', help='comma-separated sections to run')
    parser.add_argument('--vm-timeout', type=int, default=600)
    args = parser.parse_args()
    sections = {int(x) for x in args.sections.split(',')} - ({3} if args.no_vm else set())
    if args.runs < 10:
        die('--runs must be at least 10')
    if os.geteuid() != 0:
        die('run as root: `damo args damon` refuses to run otherwise')
    if REPO.startswith(('/tmp/', '/run/')):
        die('the VM mounts tmpfs over /tmp and /run: run from a clone elsewhere')
    for tool in (DP, DAMO, GNU_TIME):
        if not os.access(tool, os.X_OK):
            die(f'{tool} is missing (benches/compare.sh builds and installs it)')
    os.makedirs(OUT, exist_ok=True)

    before = host_damon()
    say(f'host DAMON before: {before}')
    home = tempfile.mkdtemp(prefix='damo-home-')
    env = dict(os.environ, HOME=home)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    # From the package metadata: on this host damo itself runs only in the namespace.
    damo_version = 'damo ' + run_ok([os.path.join(os.path.dirname(DAMO), 'python'), '-c',
                                     'import importlib.metadata as m; print(m.version("damo"))'],
                                    stdout=subprocess.PIPE).stdout.strip()
    dp_version = run_ok([DP, '--version'], stdout=subprocess.PIPE).stdout.strip()
    text = {k: 'Not run (`--sections`).' for k in range(1, 6)}
    took = {}

    def section(k, title, body):
        if k in sections:
            say(f'{k}. {title}')
            t0 = time.monotonic()
            text[k] = body()
            took[k] = time.monotonic() - t0
            say(f'{k}. done in {took[k]:.0f} s')

    vm = {'apply_rss': {}, 'idle': {}, 'release': KERNEL}

    def vm_section():
        release, bench, elapsed = run_vm(inputs, args.vm_timeout)
        body, vm['apply_rss'], vm['idle'] = kernel_writes(release, bench, elapsed, damo_version)
        vm['release'] = release
        return body

    try:
        say('generating equivalent inputs')
        inputs = generate_inputs()
        section(1, 'configuration conversion', lambda: conversion(inputs, args.runs, env)[0])
        section(2, 'validation at scale (benches/check-scale.sh)', lambda: check_scale(args.runs))
        section(3, 'kernel writes in the VM', vm_section)
        section(4, 'hot reload (cargo bench --bench reload)', reload_bench)
        section(5, 'footprint', lambda: footprint(inputs, env, vm['apply_rss'], vm['idle'], vm['release']))
    finally:
        shutil.rmtree(home, ignore_errors=True)
        after = host_damon()
        say(f'host DAMON after: {after}')
    if after != before:
        die(f'the host\'s DAMON changed during the run: before {before}, after {after}')

    report = f'''# damo-policy beside damo

Machine: {machine()}. {dp_version}; {damo_version} (PyPI). Measured {datetime.date.today().isoformat()} by
`benches/compare.sh` in one run of {time.monotonic() - started:.0f} s ({', '.join(f'section {k}: {v:.0f} s' for k, v in took.items())});
every figure below comes from that run. The machine is shared (load average {load_before:.2f} at the start,
{os.getloadavg()[0]:.2f} at the end): compare the ratios, measured side by side, rather than absolute times.
The host's DAMON was read before and after and did not change ({after}).

## 1. Configuration conversion (1, 10, 100 schemes)

{text[1]}

## 2. Validation at scale

{text[2]}

## 3. Kernel writes (real kernel, in a VM)

{text[3]}

## 4. Hot reload

{text[4]}

## 5. Footprint

{text[5]}
'''
    path = os.path.join(OUT, 'report.md')
    with open(path, 'w') as f:
        f.write(report)
    print(report)
    say(f'report saved as {os.path.relpath(path, REPO)}')


main()
