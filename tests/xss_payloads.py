"""A corpus of classic script-injection payloads, for the sanitiser's unit tests and the end-to-end XSS tests.

Every payload that would run tries to call `alert()` (a dialog the browser test listens for) or to set
`window.__xss` (a marker it reads). They are written for where people can put text: post bodies, content
warnings, names, bios and (remote) profile HTML. Written for this project from well-known patterns.
"""

from __future__ import annotations

PAYLOADS: tuple[str, ...] = (
    "<script>window.__xss=1;alert(1)</script>",
    "<SCRIPT SRC=//127.0.0.1:1/x.js></SCRIPT>",
    "<script>/*</script><script>*/window.__xss=2</script>",
    "<img src=x onerror=\"window.__xss=3;alert(3)\">",
    "<IMG SRC=\"javascript:alert(4)\">",
    "<img src=`x` onerror=alert(5)>",
    "<svg onload=\"window.__xss=6\"></svg>",
    "<svg><script>window.__xss=7</script></svg>",
    "<a href=\"javascript:window.__xss=8;alert(8)\">klik</a>",
    "<a href=\"JaVaScRiPt:alert(9)\">klik</a>",
    "<a href=\"jav&#x09;ascript:alert(10)\">klik</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(11)\">klik</a>",
    "<a href=\"  javascript:alert(12)\">klik</a>",
    "<a href=\"vbscript:msgbox(13)\">klik</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxNCk8L3NjcmlwdD4=\">klik</a>",
    "<a href=\"https://example.org\" onclick=\"window.__xss=15\" onmouseover=\"alert(15)\">link</a>",
    "<p style=\"background:url(javascript:alert(16))\">stijl</p>",
    "<div style=\"width: expression(alert(17))\">oud</div>",
    "<style>@import 'javascript:alert(18)';</style>",
    "<iframe srcdoc=\"<script>parent.__xss=19</script>\"></iframe>",
    "<iframe src=\"javascript:alert(20)\"></iframe>",
    "<object data=\"data:text/html,<script>alert(21)</script>\"></object>",
    "<embed src=\"javascript:alert(22)\">",
    "<form action=\"javascript:alert(23)\"><button>verstuur</button></form>",
    "<input autofocus onfocus=\"window.__xss=24\">",
    "<details open ontoggle=\"window.__xss=25\"><summary>x</summary></details>",
    "<body onload=\"window.__xss=26\">",
    "\"><script>window.__xss=27</script>",
    "'><img src=x onerror=alert(28)>",
    "</textarea><script>window.__xss=29</script>",
    "{{7*7}} ${7*7} {% raw %}{{ config }}{% endraw %} <%= 7*7 %>",
    "[klik](javascript:alert(31)) ![x](javascript:alert(31))",
    "<a href=\"java\u0000script:alert(32)\">nul</a> <a href=\"\u202ejavascript:alert(32)\">rlo</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(33)></style></mglyph></table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(34)>\"></noscript>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(35)\">",
    "<base href=\"javascript:alert(36)//\">",
    "<a href=\"https://example.org\" target=\"_blank\" rel=\"opener\">opener</a>",
    "<span class=\"badge badge-valid\">Geverifieerd: Minister</span>",
)

# Text that must survive the sanitisers (with its markup) or the escaping of a plain-text field.
BENIGN_HTML = ('<p>Hallo <a href="https://example.org/pad?a=1&amp;b=2" rel="nofollow noopener noreferrer">link</a>'
               '<br>tweede regel <strong>vet</strong> <em>schuin</em></p>')
