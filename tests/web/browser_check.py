#!/usr/bin/python3
"""Loads the master's web dashboard in a real headless Chromium and walks its
pages through the DevTools protocol, failing on any script error, any
Content-Security-Policy refusal, or a page that does not render.

Usage: browser_check.py URL MASTER_CERT TOKEN PAGE...
  URL          https://127.0.0.1:PORT
  MASTER_CERT  the master's PEM certificate: Chromium trusts exactly its key
  TOKEN        an ssis_admin's API token (signed in through the sign-in form;
               the admin's forms are opened too)
  PAGE         a page to visit after the Dashboard and the start of its title,
               e.g. '#/workers=Worker Manager'
Prints one line per step; exits 0 when all passed, 1 otherwise, 2 when
Chromium cannot be started. Needs Debian's chromium and python3-websocket.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # python3-websocket


def spki_sha256(cert_file):
    """The base64 SHA-256 of the certificate's public key, as Chromium's
    --ignore-certificate-errors-spki-list wants it."""
    pubkey = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout", "-pubkey"],
                            check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, cert_file):
        self.profile = tempfile.mkdtemp(prefix="scaleout-browser-")
        port = free_port()
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            print("browser_check: chromium is missing; install it (apt-get install chromium)")
            sys.exit(2)
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--disable-extensions", f"--remote-debugging-port={port}",
             "--remote-debugging-address=127.0.0.1", f"--user-data-dir={self.profile}",
             "--ignore-certificate-errors-spki-list=" + spki_sha256(cert_file),
             "--window-size=1400,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its helpers share its group, so close() ends them all
        deadline = time.time() + 30
        while True:
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                page = next(t for t in tabs if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline or self.process.poll() is not None:
                    print("browser_check: chromium did not start its DevTools endpoint")
                    self.close()
                    sys.exit(2)
                time.sleep(0.1)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.problems = []  # script errors, CSP refusals, failed loads
        self.call("Runtime.enable")
        self.call("Log.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            self.note(message)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def note(self, message):
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.problems.append("exception: " + json.dumps(params.get("exceptionDetails"))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.problems.append("console.error: " + json.dumps(params.get("args"))[:500])
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            self.problems.append(f"{entry.get('source')}: {entry.get('text')}{where}")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.05)
        shown = self.evaluate("document.body.innerText.slice(0, 800)")
        raise RuntimeError(f"timed out waiting for {what}; the page shows:\n{shown}")

    def close(self):
        """Ends Chromium and every helper process it started, then removes the
        profile (a helper still running could write into it again)."""
        group = self.process.pid
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.time() + grace
            while time.time() < deadline:
                self.process.poll()  # reap the leader
                try:
                    os.killpg(group, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                continue
            break
        self.process.poll()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    url, cert_file, token, pages = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    browser = Browser(cert_file)
    try:
        browser.call("Page.navigate", url=url + "/")
        browser.wait_for("!!document.querySelector('#login')", "the sign-in form (drawn by app.mjs)")
        # The stylesheet applies: the header has its dark background.
        header = browser.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
        assert header == "rgb(29, 35, 48)", f"app.css did not apply (header {header})"
        print("ok - the page, its modules and its stylesheet load under its CSP")
        browser.evaluate(f"""(() => {{
            document.querySelector('#login input[name=token]').value = {json.dumps(token)};
            document.querySelector('#login button[type=submit]').click(); }})()""")
        browser.wait_for("document.querySelector('h1')?.innerText === 'Dashboard'", "the Dashboard")
        browser.wait_for("document.querySelectorAll('.card').length >= 14", "its figures")
        print("ok - signed in through the form; the Dashboard shows its figures")
        for page in pages:
            target, _, title = page.rpartition("=")
            browser.evaluate(f"location.hash = {json.dumps(target)}")
            browser.wait_for(f"document.querySelector('h1')?.innerText.startsWith({json.dumps(title)})"
                             " && document.querySelector('#view table, #view .empty') !== null",
                             f"the page {target} ({title})")
            print(f"ok - {target}: {browser.evaluate('document.querySelector(`h1`).innerText')}")
        # The forms an admin opens: Add worker, Run a package, New environment.
        for page, button, form in (("#/workers", "add-worker-form", "#worker-add"),
                                   ("#/executions", "run-form", "#execution-run"),
                                   ("#/environments", "environment-form", "#environment-create")):
            browser.evaluate(f"location.hash = {json.dumps(page)}")
            selector = f"button[data-action={button}]"
            browser.wait_for(f"!!document.querySelector({json.dumps(selector)})", f"{button} on {page}")
            browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
            browser.wait_for(f"!!document.querySelector({json.dumps(form)})", f"the form {form}")
            print(f"ok - {page}: the form {form} opens")
        time.sleep(0.5)  # late errors, e.g. a refused style
        browser.evaluate("1")
        if browser.problems:
            for problem in browser.problems:
                print("not ok - " + problem)
            return 1
        print("browser_check: every page rendered with no error")
        return 0
    except Exception as error:  # report, then fail
        print(f"not ok - {error}")
        for problem in browser.problems:
            print("  also: " + problem)
        return 1
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
