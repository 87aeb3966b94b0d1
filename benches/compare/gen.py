#!/usr/bin/env python3
"""Equivalent inputs for damo-policy and damo: one policy of N schemes on physical memory
(an explicit region, so that both tools monitor the same range on any machine) and the damo
command-line options a user would type for the same configuration.

    gen.py N OUT_DIR [--age0 SECONDS]

writes OUT_DIR/policy/bench.toml and OUT_DIR/damo.args (one argument per line). Schemes cycle
through four kinds: pageout with size and time quotas; lru_prio and lru_deprio with time
quotas and free-memory watermarks, as the kernel's DAMON_LRU_SORT; stat. Scheme i's minimum
age is 60 + i seconds (scheme 0's is --age0), so every scheme differs and a one-field change
is a change of scheme 0's minimum age. Every scheme gets every damo option (its own defaults
written out where the policy has none): damo pairs the k-th --damos_quotas or --damos_wmarks
with the k-th scheme, whichever --damos_action it follows.

Scheme 0 has no watermarks on purpose: on 6.12 a `commit` to a kdamond whose every scheme is
held off by its watermarks waits until one is active again (the kernel handles `commit` only
after an aggregation), so a change of a watermark-only configuration on an idle machine never
finishes, with either tool: the writer sleeps in state_store, unkillable.
"""
import os
import sys

START, END = 4096, 1073741824  # the region both tools monitor: [4 KiB, 1 GiB)


def scheme(i, age0):
    age = age0 if i == 0 else 60 + i
    kind = i % 4
    if kind == 0:
        toml = f'''[[scheme]]
action = "pageout"
access_pattern.size = {{ min = "4KiB" }}
access_pattern.access_rate = {{ max = "0%" }}
access_pattern.age = {{ min = "{age}s" }}
quota = {{ time = "10ms", size = "128MiB", reset_interval = "1s", weights = {{ size = 0, access_rate = 1, age = 1 }} }}
'''
        args = ['--damos_action', 'pageout', '--damos_sz_region', '4K', 'max',
                '--damos_access_rate', '0%', '0%', '--damos_age', f'{age}s', 'max',
                '--damos_quotas', '10ms', '128M', '1s', '0', '1', '1',
                '--damos_wmarks', 'none', '0', '0', '0', '0']
    elif kind in (1, 2):
        action = 'lru_prio' if kind == 1 else 'lru_deprio'
        rate = '{ min = "50%" }' if kind == 1 else '{ max = "0%" }'
        toml = f'''[[scheme]]
action = "{action}"
access_pattern.access_rate = {rate}
access_pattern.age = {{ min = "{age}s" }}
quota = {{ time = "10ms", reset_interval = "1s", weights = {{ size = 1, access_rate = 1, age = 1 }} }}
watermarks = {{ metric = "free_mem_rate", interval = "5s", high = "20%", mid = "15%", low = "5%" }}
'''
        rates = ['50%', 'max'] if kind == 1 else ['0%', '0%']
        args = ['--damos_action', action, '--damos_sz_region', 'min', 'max',
                '--damos_access_rate', *rates, '--damos_age', f'{age}s', 'max',
                '--damos_quotas', '10ms', '0', '1s', '1', '1', '1',
                '--damos_wmarks', 'free_mem_rate', '5s', '200', '150', '50']
    else:
        toml = f'''[[scheme]]
action = "stat"
access_pattern.age = {{ min = "{age}s" }}
'''
        args = ['--damos_action', 'stat', '--damos_sz_region', 'min', 'max',
                '--damos_access_rate', 'min', 'max', '--damos_age', f'{age}s', 'max',
                '--damos_quotas', '0', '0', 'max', '0', '0', '0',
                '--damos_wmarks', 'none', '0', '0', '0', '0']
    return toml, args


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    age0 = int(sys.argv[sys.argv.index('--age0') + 1]) if '--age0' in sys.argv else 60
    os.makedirs(os.path.join(out, 'policy'), exist_ok=True)
    parts = [f'''# {n} scheme(s); the same configuration as damo.args
name = "bench"
[target]
physical = {{ regions = [{{ start = {START}, end = {END} }}] }}
[monitoring]
sample_interval = "5ms"
aggregation_interval = "100ms"
update_interval = "1s"
regions = {{ min = 10, max = 1000 }}
''']
    args = ['--ops', 'paddr', '--regions', f'{START}-{END}',
            '--monitoring_intervals', '5ms', '100ms', '1s',
            '--monitoring_nr_regions_range', '10', '1000']
    for i in range(n):
        toml, scheme_args = scheme(i, age0)
        parts.append(toml)
        args += scheme_args
    with open(os.path.join(out, 'policy', 'bench.toml'), 'w') as f:
        f.write('\n'.join(parts))
    with open(os.path.join(out, 'damo.args'), 'w') as f:
        f.write('\n'.join(args) + '\n')


main()
