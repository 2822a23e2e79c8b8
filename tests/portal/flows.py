"""The partner portal's flows in headless Chromium (Debian's package),
driven by Playwright. Run by tests/it/api/portal.rs, which serves the API
and the local runner and answers `ASK …` lines on stdin (what only the hub
can do: write case statuses, fix a receiver). Prints `REPORT {json}` last.
Every flow saves a screenshot to $SHOTS/<flow>.png; any failure exits 1
with the flow's name and what was seen."""
import json
import os
import re
import sys
import traceback

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As root, in a sandbox with a closed network: no sandbox, no background
# connections (each would be refused, many at a time).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = os.environ["SHOTS"]
XSS = os.environ["XSS"]
WAIT = 20_000
report = {"flows": []}


def ask(what):
    print(f"ASK {what}", flush=True)
    return sys.stdin.readline().strip()


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def done(page, flow):
    page.screenshot(path=os.path.join(SHOTS, f"{flow}.png"), full_page=True)
    report["flows"].append(flow)
    log(f"ok {flow}")


def watch(page):
    """Fails on a dialog (an alert would be injected script), a page error
    or a blocked resource (the Content-Security-Policy at work)."""
    problems = []
    page.on("dialog", lambda d: (problems.append(f"a dialog opened: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and "401" not in m.text and "404" not in m.text else None)
    return problems


def portal_fetch(page, path):
    """What the API answers the page's own session, as the portal calls it."""
    return page.evaluate("""async (path) => {
        const r = await fetch(path, {headers: {'x-hubhooks-portal': '1'}});
        return {status: r.status, body: await r.text()};
    }""", path)


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1100, "height": 900}, timezone_id="Europe/Berlin")
        page = ctx.new_page()
        page.set_default_timeout(WAIT)
        problems = watch(page)

        # open a link → see subscriptions
        page.goto(os.environ["PORTAL_LINK"])
        expect(page.locator("#who")).to_contain_text("partner 1413")
        expect(page.locator(".cards")).to_contain_text("Failing receiver")
        assert "#hhk_" not in page.url, f"the link's key stayed in the address: {page.url}"
        cookie = next(c for c in ctx.cookies() if c["name"] == "hh_portal")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        # the cookie alone opens nothing: the portal's header is required
        bare = page.evaluate("async () => (await fetch('/v1/subscriptions')).status")
        assert bare == 401, f"a request without the portal header answered {bare}"
        # Bytes of HTML, JS and CSS the first load fetched (uncompressed).
        report["pageWeight"] = page.evaluate("""() => [
            ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
            .filter((e) => /\\/portal\\/(enter|assets\\/.*\\.(js|css))?$/.test(new URL(e.name).pathname))
            .reduce((n, e) => n + e.decodedBodySize, 0)""")
        # by keyboard: back from the page to the menu, and open a page
        for _ in range(12):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("document.activeElement.textContent") == "Deliveries":
                break
        page.keyboard.press("Enter")
        expect(page.locator("main h1")).to_have_text("Deliveries")
        page.go_back()
        expect(page.locator("main h1")).to_have_text("Subscriptions")
        done(page, "open-link")

        # create one: headers with markup stay text
        page.get_by_role("link", name="Add a subscription").click()
        page.get_by_label("Description").fill("<b>Portal</b> hooks")
        page.get_by_label("URL").fill(os.environ["RECEIVER_URL"])
        # transition rules show only for statusTransition
        expect(page.locator(".transitions")).to_be_hidden()
        page.get_by_label("statusTransition", exact=True).check()
        expect(page.locator(".transitions")).to_be_visible()
        page.get_by_label("statusTransition", exact=True).uncheck()
        expect(page.locator(".transitions")).to_be_hidden()
        page.get_by_label("newStatus", exact=True).check()
        page.get_by_label("Version of newStatus").select_option("v2")
        page.get_by_role("button", name="Add a header").click()
        page.locator(".rows .name").last.fill("X-Note")
        page.locator(".rows .value").last.fill('<img src=x onerror="alert(2)">')
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('main input, main select')]
            .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length""")
        assert unlabelled == 0, f"{unlabelled} controls without a label"
        page.get_by_role("button", name="Add the subscription").click()
        secret = page.locator("#new-secret").inner_text()
        assert secret.startswith("whsec_"), secret
        report["signingSecret"] = secret
        done(page, "create-subscription")
        page.get_by_role("link", name="Open the subscription").click()
        expect(page.locator("h1")).to_have_text("<b>Portal</b> hooks")
        expect(page.locator("main")).to_contain_text('X-Note: <img src=x onerror="alert(2)">')
        assert page.locator("main img").count() == 0
        assert secret not in page.content(), "the secret is in the page after it was shown"
        sub_url = page.url
        sub_id = sub_url.rsplit("/", 1)[1]

        # send a test → the receiver's answer, shown as text
        page.get_by_role("button", name="Send a test").click()
        answer = page.locator("section[aria-label='Test result'] pre.answer")
        expect(answer).to_have_text(XSS)
        expect(page.locator("section[aria-label='Test result']")).to_contain_text("delivered · HTTP 200")
        assert page.locator("main script").count() == 0
        done(page, "test-send")

        # the delivery and its attempts, headers masked, body pretty
        page.get_by_role("link", name="See the delivery").click()
        expect(page.locator("h1")).to_have_text("newStatus delivery")
        headers = page.locator("table.headers")
        expect(headers).to_contain_text("webhook-signature")
        expect(headers).to_contain_text("v1,***")
        expect(headers).to_contain_text("X-Note")
        body = page.locator("pre.body").inner_text()
        assert body.startswith("{\n  "), body[:80]
        json.loads(body)
        expect(page.locator(".attempts li")).to_have_count(1)
        expect(page.locator(".attempts")).to_contain_text(XSS)
        time_title = page.locator(".attempts time").first.get_attribute("title")
        assert time_title.endswith("Z UTC"), time_title
        done(page, "delivery-attempts")

        # rotate the secret: the new one shown once, with the grace period
        page.goto(sub_url)
        page.get_by_role("button", name="Rotate the signing secret").click()
        page.get_by_label("Grace period (hours)").fill("2")
        page.get_by_role("button", name="Rotate", exact=True).click()
        rotated = page.locator("#new-secret").inner_text()
        assert rotated.startswith("whsec_") and rotated != secret
        expect(page.locator("section[aria-label='New signing secret']")).to_contain_text("signs too until")
        expect(page.get_by_role("button", name="Copy")).to_be_visible()
        done(page, "rotate-secret")

        # disable with a reason → see it → enable again
        page.get_by_role("button", name="Disable").click()
        page.get_by_label("Reason").fill("Receiver <moving> hosts")
        page.get_by_role("dialog").get_by_role("button", name="Disable").click()
        expect(page.locator("#state")).to_contain_text("Disabled: Receiver <moving> hosts")
        page.goto(page.url.split("#")[0] + "#/subscriptions")
        expect(page.locator(f"li[data-id='{sub_id}']")).to_contain_text("Receiver <moving> hosts")
        done(page, "disable-enable")
        page.goto(sub_url)
        page.get_by_role("button", name="Enable").click()
        expect(page.locator("#state")).to_have_text("Active")

        # replay a window after the failing receiver is fixed
        assert ask("write-statuses") == "2"
        page.goto(page.url.split("#")[0] + "#/deliveries?subscription=p-fail&outcome=failed")
        expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
        assert ask("fix-receiver") == "fixed"
        replay = page.locator("section[aria-labelledby='replay-title']")
        replay.get_by_label("Subscription").select_option("p-fail")
        replay.get_by_role("button", name="Count the deliveries").click()
        expect(replay).to_contain_text("2 deliveries in this window")
        replay.get_by_role("button", name="Replay 2 deliveries").click()
        page.get_by_role("dialog").get_by_role("button", name="Send them").click()
        expect(replay).to_contain_text("2 deliveries sent again.")
        report["replayed"] = 2
        page.goto(page.url.split("#")[0] + "#/deliveries?subscription=p-fail&outcome=delivered")
        for _ in range(30):
            if page.locator("table.deliveries tbody tr").count() == 2:
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
        done(page, "replay-window")

        # the chart and the narrow screen
        page.goto(page.url.split("#")[0] + "#/activity")
        expect(page.locator("figure.chart svg rect.bar").first).to_be_visible()
        label = page.locator("figure.chart svg").get_attribute("aria-label")
        assert re.search(r"[1-9]\d* delivered", label), label
        page.set_viewport_size({"width": 375, "height": 812})
        for where in ["#/subscriptions", f"#/subscriptions/{sub_id}", "#/deliveries", "#/activity"]:
            page.goto(page.url.split("#")[0] + where)
            page.wait_for_selector("main h1")
            page.wait_for_timeout(300)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 375, f"{where} is {wide} px wide at 375"
        page.goto(page.url.split("#")[0] + f"#/subscriptions/{sub_id}")
        page.wait_for_selector("main h1")
        done(page, "narrow-screen")
        page.set_viewport_size({"width": 1100, "height": 900})

        # the catalogue: every type, its versions, verify snippets
        page.goto(page.url.split("#")[0] + "#/catalogue")
        expect(page.locator("section.type")).to_have_count(8)
        for lang in ["Python", "Node", "Rust"]:
            page.get_by_text(lang, exact=True).click()
        expect(page.locator("main")).to_contain_text("from standardwebhooks.webhooks import Webhook")
        page.locator("#type-newStatus summary").first.click()
        expect(page.locator("#type-newStatus pre.body").first).to_contain_text('"key"')
        done(page, "catalogue")
        assert not problems, problems

        # another party's link never shows this party's data
        other_ctx = browser.new_context(viewport={"width": 1100, "height": 900})
        other = other_ctx.new_page()
        other.set_default_timeout(WAIT)
        other.goto(os.environ["OTHER_LINK"])
        expect(other.locator("#who")).to_contain_text("partner 9999")
        expect(other.locator(".cards li")).to_have_count(1)
        seen = other.locator("main").inner_text()
        assert "Failing receiver" not in seen and "<b>Portal</b>" not in seen and sub_id not in seen, seen
        for path in [f"/v1/subscriptions/{sub_id}", "/v1/subscriptions/p-fail",
                     f"/v1/deliveries?subscription={sub_id}"]:
            got = portal_fetch(other, path)
            assert got["status"] == 404, f"{path} answered {got['status']} to another party"
        other.goto(other.url.split("#")[0] + f"#/subscriptions/{sub_id}")
        expect(other.locator(".note.error")).to_contain_text("no subscription with this id")
        done(other, "other-party")

        # expired, reused and tampered links are refused, saying why
        refused = browser.new_context().new_page()
        refused.set_default_timeout(WAIT)
        refused.goto(os.environ["EXPIRED_LINK"])
        expect(refused.locator(".closed")).to_contain_text("This portal link has expired.")
        refused.goto(os.environ["PORTAL_LINK"])
        expect(refused.locator(".closed")).to_contain_text("was used already")
        link = os.environ["PORTAL_LINK"]
        refused.goto(link[:-1] + ("A" if link[-1] != "A" else "B"))
        expect(refused.locator(".closed")).to_contain_text("not a valid portal link")
        refused.goto(os.environ["API_BASE"] + "/portal/")
        expect(refused.locator(".closed")).to_contain_text("You are not signed in")
        done(refused, "refused-links")

        # signing out ends the session
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator(".closed")).to_contain_text("You are signed out")
        after = portal_fetch(page, "/v1/subscriptions")
        assert after["status"] == 401, after
        done(page, "sign-out")
        browser.close()
    print("REPORT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # the test prints this with the flows that passed
        log(f"FAILED after {report['flows']}:")
        traceback.print_exc()
        sys.exit(1)
