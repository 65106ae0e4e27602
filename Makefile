# adstudio backend — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
FUNCTIONS := auth generate history imageproxy
BIN := bin

.PHONY: help dev admin test test-go test-compat test-dbcompat test-browser bench migrate build synth deploy clean build-local local-lambda test-lambda

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

dev: ## run the whole API on http://127.0.0.1:8787 (PORT overrides), zero configuration
	$(GO) run ./cmd/dev

migrate: ## apply migrations to TURSO_DATABASE_URL (default: the .data/ dev database)
	$(GO) run ./cmd/migrate

admin: ## operator tool: make admin ARGS="grant ann@example.com image-from-text 5" (or "paid EMAIL", "show EMAIL", "user EMAIL", "audit EMAIL", "revoke EMAIL", "purchases EMAIL")
	$(GO) run ./cmd/admin $(ARGS)

test: test-go build synth test-compat test-dbcompat test-browser test-lambda ## run every test, and build the Lambda packages

# infra's npm packages: the CDK CLI and a pinned Node 22, which jsii (the CDK
# from Go) needs on PATH for the stack test and for synth.
INFRA_NODE := $(CURDIR)/infra/node_modules/.bin
$(INFRA_NODE)/cdk: infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# tool is a shell snippet that sets the variable $(1) to the path the
# install script $(2) prints, or stops the recipe: a tool that cannot be
# installed must fail the run. (In `VAR=$(script) go test` a failing
# script only leaves VAR empty; the suites that need it skip, and the run
# passes.) The tests also fail on a missing tool by themselves when CI is
# set (internal/devtools/testenv).
tool = $(1)=$$($(2)) && [ -n "$$$(1)" ] || { echo "make: $(2) failed: cannot install the tool for $(1)" >&2; exit 1; }

test-go: $(INFRA_NODE)/cdk ## Go tests with the race detector (remote libSQL via tursodb, S3 via versitygw, SMTP via Mailpit, Stripe's API via stripe-mock, the CDK stack via jsii, packaged functions via the Lambda RIE)
	$(GO) vet ./...
	$(call tool,TURSODB_BIN,tests/remote/tursodb.sh); \
	$(call tool,VERSITYGW_BIN,tests/s3/versitygw.sh); \
	$(call tool,MAILPIT_BIN,tests/mail/mailpit.sh); \
	$(call tool,STRIPE_MOCK_BIN,tests/stripe/stripe-mock.sh); \
	$(call tool,RIE_BIN,tests/lambda/rie.sh); \
	export TURSODB_BIN VERSITYGW_BIN MAILPIT_BIN STRIPE_MOCK_BIN RIE_BIN; \
	PATH="$(INFRA_NODE):$$PATH" $(GO) test -race -count=1 ./...

$(BIN)/adstudio-dev: FORCE
	@mkdir -p $(BIN)
	$(GO) build -o $@ ./cmd/dev
FORCE:

test-compat: $(BIN)/adstudio-dev ## better-auth's own client (npm) against the local server
	$(call tool,MAILPIT_BIN,tests/mail/mailpit.sh); \
	export MAILPIT_BIN; \
	SERVER_BIN=$(CURDIR)/$(BIN)/adstudio-dev tests/compat/run.sh

test-dbcompat: $(BIN)/adstudio-dev ## databases written by better-auth itself, both layouts
	SERVER_BIN=$(CURDIR)/$(BIN)/adstudio-dev tests/dbcompat/run.sh

test-browser: $(BIN)/adstudio-dev ## headless Chromium, cross-site and same-site cookies
	SERVER_BIN=$(CURDIR)/$(BIN)/adstudio-dev tests/browser/run.sh

bench: build-local ## benchmarks: endpoints vs one scrypt hash, round trips and CPU per request (vs a trivial handler), cold starts under RIE (vs a minimal bootstrap)
	$(call tool,RIE_BIN,tests/lambda/rie.sh); \
	export RIE_BIN LAMBDA_DIST=$(CURDIR)/dist/local; \
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

build: ## Lambda packages: dist/<function>/bootstrap (linux/arm64) and dist/<function>.zip
	@for f in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w" -o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	  $(GO) run ./cmd/zipdir dist/$$f dist/$$f.zip || exit 1; \
	  printf '%-11s bootstrap %9d bytes, zip %9d bytes\n' $$f $$(stat -c %s dist/$$f/bootstrap) $$(stat -c %s dist/$$f.zip); \
	done

synth: build $(INFRA_NODE)/cdk ## the CDK app's CloudFormation template, offline: infra/cdk.out/AdstudioStack.template.json (CTX="-c key=value …")
	infra/synth.sh $(CTX)

deploy: build $(INFRA_NODE)/cdk ## cdk deploy with your AWS credentials (docs/deploy.md first; CTX="-c key=value …")
	cd infra && PATH="$(INFRA_NODE):$$PATH" CDK_DISABLE_CLI_TELEMETRY=true cdk deploy $(CTX)

build-local: ## host-architecture Lambda builds for the RIE: dist/local/<function>/bootstrap
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w" -o dist/local/$$f/bootstrap ./functions/$$f || exit 1; \
	done

$(BIN)/adstudio-localgateway: FORCE
	@mkdir -p $(BIN)
	$(GO) build -o $@ ./cmd/localgateway

local-lambda: build-local $(BIN)/adstudio-localgateway ## run the packaged functions under the Lambda RIE behind a local API Gateway on :8787
	$(call tool,RIE_BIN,tests/lambda/rie.sh); \
	RIE_BIN=$$RIE_BIN LAMBDA_DIST=$(CURDIR)/dist/local $(BIN)/adstudio-localgateway

test-lambda: build-local $(BIN)/adstudio-localgateway ## the packaged functions under RIE behind the local gateway: better-auth client suite, Chromium
	$(call tool,RIE_BIN,tests/lambda/rie.sh); \
	$(call tool,MAILPIT_BIN,tests/mail/mailpit.sh); \
	export RIE_BIN MAILPIT_BIN LAMBDA_DIST=$(CURDIR)/dist/local PATH=$$(dirname $$RIE_BIN):$$PATH && \
	  SERVER_BIN=$(CURDIR)/$(BIN)/adstudio-localgateway COMPAT_AUTH_SCHEMAS=users tests/compat/run.sh && \
	  SERVER_BIN=$(CURDIR)/$(BIN)/adstudio-localgateway tests/browser/run.sh

clean: ## remove build output (not the .data/ dev database)
	rm -rf dist $(BIN) infra/cdk.out
