"""tollgate serve behind a real nginx (auth_request), with the configuration of docs/serve.md:
the model Tollgate picks reaches the upstream as a header, a rule's denial and a spent budget
reach the client as a 403 with the reason, the admit/record flow spends a tenant's budget down
to its limit, a bad header is denied (fail closed), and so is every request while Tollgate is
down.

usage: serve_nginx_test.py TOLLGATE_CLI"""
import os
import sys

from serve_support import (Check, Process, Serve, Workdir, free_port, post_json, request, require,
                           wait_until)

POLICY = """policy gateway
input {
  tenant: string
  task: enum(classify, chat) = chat
}
routes {
  cheap = "gpt-4o-mini" in $0.15/M out $0.6/M
  strong = "gpt-4o" in $2.5/M out $10/M
}
budget daily = 0.05 usd per tenant per day
if tenant startswith "blocked-" deny "blocked tenant"
if daily.remaining <= 0 deny "daily budget exhausted"
if task == classify route cheap max_out 64
default route strong max_out 1000
"""

NGINX_CONF = """daemon off;
{user}
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
  access_log {dir}/nginx-access.log;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream tollgate {{ server 127.0.0.1:{tollgate}; keepalive 32; }}
  upstream llm_backend {{ server 127.0.0.1:{backend}; }}

  # The stand-in for the LLM provider: echoes what the gateway forwarded.
  server {{
    listen 127.0.0.1:{backend};
    location / {{
      return 200 "backend model=$http_x_tollgate_model max_out=$http_x_tollgate_max_out\\n";
    }}
  }}

  server {{
    listen 127.0.0.1:{gateway};
    location /v1/chat/completions {{
      auth_request /_tollgate;
      auth_request_set $tg_model  $upstream_http_x_tollgate_model;
      auth_request_set $tg_maxout $upstream_http_x_tollgate_max_out;
      auth_request_set $tg_reason $upstream_http_x_tollgate_reason;
      proxy_set_header X-Tollgate-Model   $tg_model;
      proxy_set_header X-Tollgate-Max-Out $tg_maxout;
      proxy_pass http://llm_backend;
      error_page 403 = @denied;
    }}
    location = /_tollgate {{
      internal;
      proxy_pass http://tollgate/v1/authz/gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Tollgate-Tenant $http_x_api_key;
    }}
    location @denied {{
      add_header X-Tollgate-Reason $tg_reason always;
      return 403 '{{"error":"denied by policy"}}';
    }}
  }}
}}
"""


def main():
    cli = sys.argv[1]
    nginx = require("nginx")
    check = Check()
    with Workdir() as wd:
        wd.write("gateway.pol", POLICY)
        policies = os.path.join(wd.path, "policies")
        os.mkdir(policies)
        os.replace(os.path.join(wd.path, "gateway.pol"), os.path.join(policies, "gateway.pol"))
        serve = Serve(cli, policies, wd.path, "--threads", "1")
        gateway, backend = free_port(), free_port()
        # As root (CI containers), workers would run as nobody and could not enter the 0700 workdir.
        user = "user root;" if os.geteuid() == 0 else ""
        conf = wd.write("nginx.conf", NGINX_CONF.format(user=user, dir=wd.path, tollgate=serve.port,
                                                         gateway=gateway, backend=backend))
        ngx = Process([nginx, "-c", conf, "-p", wd.path], os.path.join(wd.path, "nginx.log"))
        try:
            def nginx_up():
                if not ngx.alive():
                    raise AssertionError("nginx exited:\n" + ngx.output())
                try:
                    request(backend, "GET", "/", timeout=1)
                    return True
                except OSError:
                    return False

            wait_until("nginx to listen", nginx_up)

            def chat(headers):
                return request(gateway, "POST", "/v1/chat/completions", body="{}",
                               headers=headers)

            # Allowed: Tollgate's choice reaches the upstream.
            status, _, body = chat({"X-Api-Key": "acme", "X-Tollgate-Task": "classify"})
            check(status == 200, f"allowed request: {status} {body}")
            check(body == "backend model=gpt-4o-mini max_out=64\n", f"upstream saw: {body!r}")
            status, _, body = chat({"X-Api-Key": "acme"})
            check(body == "backend model=gpt-4o max_out=1000\n", f"default route: {body!r}")

            # Denied by a rule: the client gets the 403 and the reason, the upstream nothing.
            status, headers, body = chat({"X-Api-Key": "blocked-7"})
            check(status == 403, f"denied request: {status} {body}")
            check(headers.get("x-tollgate-reason") == "blocked tenant", f"reason: {headers}")
            check("denied by policy" in body, body)

            # The gateway's admit/record flow spends tenant "small"'s $0.05: each call reserves
            # 1000 in + 1000 out tokens of gpt-4o ($0.0125) and records 1000 in + 900 out
            # ($0.0115). Admissions stop when the next reservation no longer fits.
            admitted = 0
            for _ in range(20):
                status, out = post_json(serve.port, "/v1/admit",
                                        {"input": {"tenant": "small"}, "est_in_tokens": 1000})
                check(status == 200, f"admit: {status} {out}")
                if not out["admitted"]:
                    check("daily" in out["reason"], f"refusal reason: {out}")
                    break
                admitted += 1
                status, rec = post_json(serve.port, "/v1/record",
                                        {"id": out["id"], "in_tokens": 1000, "out_tokens": 900})
                check(status == 200, f"record: {status} {rec}")
            # $0.0115 per call recorded: after 4 calls $0.046 is spent and $0.004 is left, less
            # than the $0.0125 the fifth would reserve.
            check(admitted == 4, f"admitted {admitted} calls within $0.05, want 4")
            # One more real call exhausts the budget: through nginx, the tenant is now refused.
            status, out = post_json(serve.port, "/v1/record",
                                    {"id": post_json(serve.port, "/v1/admit", {
                                        "input": {"tenant": "small", "task": "classify"},
                                        "est_in_tokens": 10})[1]["id"],
                                     "in_tokens": 10, "out_tokens": 10, "cost_usd": 0.004})
            check(status == 200, f"last record: {status} {out}")
            status, headers, body = chat({"X-Api-Key": "small"})
            check(status == 403, f"spent tenant must be refused: {status} {body}")
            check(headers.get("x-tollgate-reason") == "daily budget exhausted", f"{headers}")
            status, _, _ = chat({"X-Api-Key": "acme"})
            check(status == 200, "other tenants keep their budget")

            # A header that is not a member of the enum: fail closed.
            status, _, body = chat({"X-Api-Key": "acme", "X-Tollgate-Task": "poetry"})
            check(status == 403, f"bad header must be denied: {status} {body}")

            # The decisions were counted by the server, one per auth subrequest.
            for route, n in (("cheap", 1), ("strong", 2), ("deny", 2)):
                got = serve.metric("tollgate_decisions_total", f'policy="gateway",route="{route}"')
                check(got == n, f"decisions with route {route}: {got}, want {n}")

            # Tollgate down: nginx answers 500 for the auth subrequest, never lets it through.
            serve.stop()
            status, _, body = chat({"X-Api-Key": "acme"})
            check(status == 500, f"tollgate down must not pass the request: {status} {body}")
            check("backend" not in body, body)
        finally:
            ngx.stop(timeout=5)
            serve.stop()
    print(f"serve_nginx_test: ok ({check.count} checks)")


if __name__ == "__main__":
    main()
