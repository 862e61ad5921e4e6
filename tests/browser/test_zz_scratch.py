import json
from .test_reader_browser import *  # noqa
from .conftest import AXE

def test_scratch(page, demo, errors):
    reqs = []
    page.on("request", lambda r: reqs.append((r.url, {k: v for k, v in r.headers.items() if k.startswith("hx")})))
    page.goto(demo + TIMELINE)
    page.get_by_label("Issue", exact=True).select_option("humanitarian-corridors")
    page.wait_for_timeout(500)
    print("URL after filter", page.url)
    page.go_back()
    page.wait_for_timeout(1000)
    print("URL after back", page.url)
    print(page.evaluate("document.body.outerHTML.slice(0, 600)"))
    for r in reqs: print(r)
    print(errors)
    for path in ["/negotiations/russia-ukraine/rounds/3/", BOARD, BOARD+"humanitarian-corridors/", "/parties/russia/", "/people/vladimir-medinsky/", "/search/?q=corridor"]:
        page.goto(demo + path)
        page.evaluate(AXE.read_text())
        res = page.evaluate("async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
        for v in res["violations"]:
            print(path, v["id"], v["impact"])
            for n in v["nodes"]:
                print("   ", n["target"], n["html"][:150], n["failureSummary"][:200].replace("\n"," | "))
