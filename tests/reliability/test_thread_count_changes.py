"""set_num_threads at any moment, even while other threads step a model
whose steps are split across the pool: no deadlock, no crash, and every
output equals the single-thread bits."""
from child_process import run_child


def test_changing_the_thread_count_while_stepping():
    # In a child with a timeout: a deadlock fails the test instead of
    # hanging the run.
    out = run_child("""
import threading
rng = np.random.default_rng(0)
# 4H x (I + H) = 1.6M weights: well above the size where steps are split.
m = lnfast.Model(make_cell('lstm_separate_state', 300, 512, rng))
X = rng.standard_normal((60, 300)).astype(np.float32)
ref = m.stream()
want = np.stack([ref.step(x) for x in X])
want_run = m.stream().run(X)
bad = []
done = threading.Event()

def step_all(i):
    for _ in range(3):
        s = m.stream()
        if not np.array_equal(np.stack([s.step(x) for x in X]), want):
            bad.append(('step', i))
        if not np.array_equal(m.stream().run(X), want_run):
            bad.append(('run', i))

def flip_thread_count():
    n = 0
    while not done.is_set():
        lnfast.set_num_threads(1 + n % lnfast.available_cpus())  # 1..all CPUs (more is refused)
        n += 1
    print('changes', n)

flipper = threading.Thread(target=flip_thread_count)
flipper.start()
workers = [threading.Thread(target=step_all, args=(i,)) for i in range(2)]
for w in workers: w.start()
for w in workers: w.join()
done.set()
flipper.join()
lnfast.set_num_threads(1)
print('bad', bad)
""", timeout=300)
    assert "bad []" in out, out
    changes = int(out.split("changes")[1].split()[0])
    assert changes > 10, out  # the count really changed while stepping
