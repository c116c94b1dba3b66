#!/usr/bin/python3
"""The delay from a kubeconfig change to its /v1/watch event (docs/performance.md).

    tests/bench/watch_delay.py BUILD/lcrules [ROUNDS]

Starts `lcrules serve` in a sandbox HOME holding the demo kubeconfig, follows the current
context over /v1/watch, and switches it ROUNDS times with `kubectl config use-context`,
each time measuring from kubectl's exit to the event's arrival; once with inotify and once
with LCRULES_WATCH=poll. Prints the median, p90 and maximum of each.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def measure(binary, rounds, poll):
    sandbox = tempfile.mkdtemp()
    home = os.path.join(sandbox, "home")
    os.makedirs(os.path.join(home, ".kube"))
    kubeconfig = os.path.join(home, ".kube", "config")
    shutil.copy(os.path.join(REPO, "docs", "demo", "kubeconfig"), kubeconfig)
    sock = os.path.join(sandbox, "lcrules.sock")
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "LCRULES_SYSTEM_DIR": os.path.join(sandbox, "etc")}
    if poll:
        env["LCRULES_WATCH"] = "poll"
    server = subprocess.Popen([binary, "serve", "--socket", sock, "--log-level", "warn"], env=env)
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        client = socket.socket(socket.AF_UNIX)
        client.connect(sock)
        client.sendall(b"GET /v1/watch HTTP/1.1\r\nHost: lcrules\r\n\r\n")
        buffer = b""
        header_done = False

        def next_event():
            nonlocal buffer, header_done
            while True:
                if not header_done and b"\r\n\r\n" in buffer:
                    buffer = buffer.split(b"\r\n\r\n", 1)[1]
                    header_done = True
                if header_done and b"\n\n" in buffer:
                    event, _, buffer = buffer.partition(b"\n\n")
                    return event
                data = client.recv(65536)
                if not data:
                    raise RuntimeError("the server closed the watch")
                buffer += data

        next_event()  # the decision now
        delays = []
        contexts = ["docker-desktop", "kind-dev"]
        for i in range(rounds):
            subprocess.run(["kubectl", "config", "use-context", contexts[i % 2], "--kubeconfig", kubeconfig],
                           check=True, stdout=subprocess.DEVNULL)
            changed = time.monotonic()
            event = next_event()
            delays.append((time.monotonic() - changed) * 1000)
            assert contexts[i % 2].encode() in event, event
        return delays
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(sandbox, ignore_errors=True)


def main():
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    for poll in (False, True):
        d = sorted(measure(binary, rounds, poll))
        print(f"{'polling' if poll else 'inotify'}: {rounds} changes, delay median {statistics.median(d):.1f} ms, "
              f"p90 {d[int(len(d) * 0.9) - 1]:.1f} ms, max {d[-1]:.1f} ms")


if __name__ == "__main__":
    main()
