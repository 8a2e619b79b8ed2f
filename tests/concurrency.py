"""Run a test's work on several Python threads at once."""
import threading


def run_on_threads(work, count: int) -> None:
    """work(i) for i < count, each on its own thread; returns when all are done."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
