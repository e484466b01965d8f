# mailsim: an educational email-protocol simulator.
#
#   make        build build/mailsim
#   make run    build and play the default story (its transcript)
#   make test   build with sanitizers, run every test, print "N passed, N failed"
#   make deps   install missing Debian packages (the three targets above run it first)
#
# Source lists are explicit, one file per line: add a file where its layer is.

VERSION   := 0.1.0
CC        ?= cc
CSTD      := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS    ?= -O2 -g
CPPFLAGS  += -I. -DMAILSIM_VERSION='"$(VERSION)"'
SANITIZE  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Debian 12 packages the build, the tests and the interop tests need.
DEB_PACKAGES := build-essential clang pkg-config \
                libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev \
                libcjson-dev libcmocka-dev libssl-dev \
                libclang-rt-14-dev \
                python3 curl bind9-dnsutils dovecot-imapd dovecot-pop3d postfix mutt
PKGS_SIM    := libcjson
PKGS_RENDER := sdl2 SDL2_ttf SDL2_image
PKGS_BRIDGE := openssl

# protocols/: the codecs, libc only.
PROTOCOL_SRC := \
	protocols/base64.c \
	protocols/common.c \
	protocols/dns.c \
	protocols/dns_mx.c \
	protocols/imap_lex.c \
	protocols/imap_command.c \
	protocols/imap_response.c \
	protocols/imap_server.c \
	protocols/imap_fetch.c \
	protocols/imap_search.c \
	protocols/imap_client.c \
	protocols/linebuf.c \
	protocols/md5.c \
	protocols/mime.c \
	protocols/msg.c \
	protocols/pop3.c \
	protocols/pop3_server.c \
	protocols/smtp.c \
	protocols/smtp_data.c \
	protocols/smtp_explain.c \
	protocols/imap_explain.c \
	protocols/pop3_explain.c \
	protocols/smtp_server.c \
	protocols/smtp_client.c \
	protocols/pop3_client.c \
	protocols/dsn.c \

# sim/: the engine and the mail system.
SIM_SRC := \
	sim/engine.c \
	sim/eventq.c \
	sim/net.c \
	sim/rng.c \
	sim/trace.c \
	sim/dns_service.c \
	sim/mta.c \
	sim/store.c \
	sim/imapd.c \
	sim/pop3d.c \
	sim/scenario.c \
	sim/world.c \
	sim/mua.c \
	sim/device.c \
	sim/compare.c \
	sim/maildir.c \

# The live bridge (mailsim serve): sockets and OpenSSL, linked only into the
# program and the bridge's tests (TEST_BRIDGE_TESTS).
BRIDGE_SRC := \
	sim/bridge.c \
	sim/bridge_tls.c \

# render/: views and the command line. main.c holds main() and stays last.
RENDER_SRC := \
	render/transcript.c \
	render/run.c \
	render/ui_lesson.c \
	render/ui_state.c \
	render/ui_layout.c \
	render/ui_text.c \
	render/ui_draw.c \
	render/ui_snapshot.c \
	render/ui_window.c \
	render/ui_asker.c \
	render/ui_player.c \
	render/ui_split.c \
	render/ui_split_draw.c \
	render/quiz.c \
	render/handout.c \
	render/teacher.c \
	render/compare_view.c \
	render/serve.c \
	render/ui_live.c \
	render/main.c \

# tests/: one cmocka program per module, tests/NAME.c -> $(BUILD)/test/NAME,
# linked with the sanitized objects of the sources its TEST_NAME line lists.
TESTS := \
	test_live \
	test_maildir \
	test_bridge \
	test_dovecot \
	test_interop \
	test_compare \
	test_linebuf \
	test_imap_server \
	test_imap_client \
	test_imap_dialogue \
	test_imap_command \
	test_imap_response \
	test_sim_engine \
	test_sim_net \
	test_sim_dns \
	test_sim_store \
	test_sim_imapd \
	test_sim_pop3d \
	test_explain \
	test_sim_device \
	test_scenario \
	test_world \
	test_sim_mua \
	test_transcript \
	test_ui_state \
	test_ui_layout \
	test_ui_render \
	test_ui_quiz \
	test_ui_split \
	test_dns \
	test_dns_mx \
	test_base64 \
	test_smtp \
	test_smtp_data \
	test_md5 \
	test_mime \
	test_msg \
	test_pop3 \
	test_pop3_server \
	test_pop3_client \
	test_smtp_server \
	test_smtp_client \
	test_smtp_dialogue \
	test_dsn \
	test_sim_mta \
	test_handout \
	test_quiz \
	test_lessons \
	test_conservation \

TEST_test_compare := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/imap_client.c protocols/md5.c protocols/pop3.c protocols/pop3_server.c protocols/pop3_client.c protocols/imap_explain.c protocols/pop3_explain.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/store.c sim/imapd.c sim/pop3d.c sim/device.c sim/compare.c
TEST_test_maildir := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/pop3.c protocols/pop3_server.c protocols/imap_explain.c protocols/pop3_explain.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/store.c sim/maildir.c
TEST_test_bridge := $(PROTOCOL_SRC) $(SIM_SRC) $(BRIDGE_SRC)
TEST_test_live := $(PROTOCOL_SRC) $(SIM_SRC) $(BRIDGE_SRC) render/transcript.c render/run.c render/ui_lesson.c render/ui_state.c render/ui_layout.c render/ui_text.c render/ui_draw.c render/ui_snapshot.c render/ui_window.c render/quiz.c render/ui_asker.c render/ui_player.c render/ui_live.c
TEST_test_dovecot := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_client.c protocols/pop3.c protocols/pop3_server.c protocols/pop3_client.c
TEST_test_interop := protocols/common.c
TEST_test_linebuf := protocols/common.c protocols/linebuf.c
TEST_test_imap_server := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c tests/imap_memstore.c
TEST_test_imap_client := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_client.c
TEST_test_imap_dialogue := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/imap_client.c tests/imap_memstore.c
TEST_test_imap_command := protocols/common.c protocols/linebuf.c protocols/imap_lex.c protocols/imap_command.c
TEST_test_imap_response := protocols/common.c protocols/linebuf.c protocols/imap_lex.c protocols/imap_response.c
TEST_test_smtp := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_explain.c
TEST_test_smtp_data := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c
TEST_test_msg := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c
TEST_test_mime := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c
TEST_test_smtp_server := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_server.c
TEST_test_smtp_client := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_client.c
TEST_test_smtp_dialogue := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_server.c protocols/smtp_client.c
TEST_test_sim_engine := sim/engine.c sim/eventq.c sim/rng.c sim/trace.c
TEST_test_transcript := render/transcript.c sim/trace.c
TEST_test_ui_state := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/ui_state.c render/ui_layout.c
TEST_test_ui_layout := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/ui_state.c render/ui_layout.c
TEST_test_ui_render := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/ui_state.c render/ui_layout.c render/ui_text.c render/ui_draw.c render/ui_snapshot.c render/ui_window.c render/quiz.c render/ui_asker.c render/ui_player.c
TEST_test_ui_quiz := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/ui_state.c render/ui_layout.c render/ui_text.c render/ui_draw.c render/ui_snapshot.c render/ui_window.c render/quiz.c render/ui_asker.c render/ui_player.c
TEST_test_ui_split := $(PROTOCOL_SRC) $(SIM_SRC) render/ui_lesson.c render/run.c render/transcript.c render/ui_layout.c render/ui_text.c render/ui_split.c render/ui_split_draw.c render/compare_view.c
TEST_test_sim_net := sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c
TEST_test_sim_dns := protocols/common.c protocols/dns.c protocols/dns_mx.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/dns_service.c
TEST_test_sim_store := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/pop3.c protocols/pop3_server.c protocols/imap_explain.c protocols/pop3_explain.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/store.c
TEST_test_sim_imapd := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/pop3.c protocols/pop3_server.c protocols/imap_explain.c protocols/pop3_explain.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/store.c sim/imapd.c sim/pop3d.c
TEST_test_sim_pop3d := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/pop3.c protocols/pop3_server.c protocols/imap_explain.c protocols/pop3_explain.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/store.c sim/imapd.c sim/pop3d.c
TEST_test_explain := protocols/common.c protocols/linebuf.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/pop3.c protocols/pop3_server.c protocols/md5.c protocols/imap_explain.c protocols/pop3_explain.c
TEST_test_sim_device := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_explain.c protocols/smtp_server.c protocols/smtp_client.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/imap_client.c protocols/md5.c protocols/pop3.c protocols/pop3_server.c protocols/pop3_client.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/mua.c sim/device.c tests/imap_memstore.c protocols/imap_explain.c protocols/pop3_explain.c sim/store.c sim/imapd.c sim/pop3d.c protocols/dns.c protocols/dns_mx.c protocols/dsn.c sim/dns_service.c sim/mta.c
TEST_test_scenario := protocols/common.c protocols/dns.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/scenario.c
TEST_test_world := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c
TEST_test_sim_mua := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_explain.c protocols/smtp_server.c protocols/smtp_client.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/imap_client.c protocols/md5.c protocols/pop3.c protocols/pop3_server.c protocols/pop3_client.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/mua.c sim/device.c tests/imap_memstore.c protocols/imap_explain.c protocols/pop3_explain.c sim/store.c sim/imapd.c sim/pop3d.c protocols/dns.c protocols/dns_mx.c protocols/dsn.c sim/dns_service.c sim/mta.c
TEST_test_dns := protocols/common.c protocols/dns.c
TEST_test_dns_mx := protocols/common.c protocols/dns.c protocols/dns_mx.c
TEST_test_base64 := protocols/common.c protocols/base64.c
TEST_test_md5 := protocols/common.c protocols/md5.c
TEST_test_pop3 := protocols/common.c protocols/linebuf.c protocols/pop3.c
TEST_test_pop3_server := protocols/common.c protocols/linebuf.c protocols/md5.c protocols/pop3.c protocols/pop3_server.c
TEST_test_pop3_client := protocols/common.c protocols/linebuf.c protocols/md5.c protocols/pop3.c protocols/pop3_server.c protocols/pop3_client.c
TEST_test_dsn := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c protocols/dsn.c
TEST_test_sim_mta := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/md5.c protocols/msg.c protocols/mime.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/imap_server.c protocols/imap_fetch.c protocols/imap_search.c protocols/pop3.c protocols/pop3_server.c protocols/imap_explain.c protocols/pop3_explain.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_explain.c protocols/smtp_server.c protocols/smtp_client.c protocols/dns.c protocols/dns_mx.c protocols/dsn.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/dns_service.c sim/store.c sim/mta.c
TEST_test_handout := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/quiz.c render/handout.c render/teacher.c
TEST_test_quiz := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/quiz.c render/handout.c render/teacher.c
TEST_test_lessons := $(PROTOCOL_SRC) $(SIM_SRC) render/transcript.c render/run.c render/ui_lesson.c render/quiz.c render/handout.c render/teacher.c
TEST_test_conservation := $(PROTOCOL_SRC) sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/dns_service.c sim/store.c sim/mta.c sim/imapd.c sim/pop3d.c sim/mua.c sim/device.c

LIB_SRC := $(PROTOCOL_SRC) $(SIM_SRC)

# BUILD=DIR builds elsewhere (two checkouts' builds must not share a folder).
BUILD        ?= build
OBJ_DIR      := $(BUILD)/obj
ASAN_DIR     := $(BUILD)/asan
TEST_DIR     := $(BUILD)/test
LIB_OBJ      := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
BRIDGE_OBJ   := $(BRIDGE_SRC:%.c=$(OBJ_DIR)/%.o)
RENDER_OBJ   := $(RENDER_SRC:%.c=$(OBJ_DIR)/%.o)
ASAN_LIB_OBJ := $(LIB_SRC:%.c=$(ASAN_DIR)/%.o)
TEST_BIN     := $(TESTS:%=$(TEST_DIR)/%)

pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

.PHONY: all deps run test clang-check clean bench
.DEFAULT_GOAL := all
.SECONDARY:

all: deps
	@$(MAKE) --no-print-directory $(BUILD)/mailsim

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

# Until the window exists, `make run` plays the default story as a transcript:
# what a teacher wants to see first (mailsim run LESSON for another lesson).
# Opens the window; without a display mailsim says so and plays the transcript.
run: all
	./$(BUILD)/mailsim

$(BUILD)/mailsim: $(LIB_OBJ) $(BRIDGE_OBJ) $(RENDER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_SIM) $(PKGS_RENDER) $(PKGS_BRIDGE)) -lm

$(OBJ_DIR)/protocols/%.o: protocols/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(OBJ_DIR)/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM)) -MMD -MP -c -o $@ $<

$(OBJ_DIR)/render/%.o: render/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM) $(PKGS_RENDER)) -MMD -MP -c -o $@ $<

# The sanitized library the tests link against.
$(ASAN_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SANITIZE) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM)) -MMD -MP -c -o $@ $<

$(ASAN_DIR)/render/%.o: render/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SANITIZE) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM) $(PKGS_RENDER)) -MMD -MP -c -o $@ $<

asan_obj = $(patsubst %.c,$(ASAN_DIR)/%.o,$(1))

# Tests that draw with SDL2, SDL2_ttf and SDL2_image also build and link
# with PKGS_RENDER.
TEST_RENDER_TESTS := test_ui_render test_ui_quiz test_ui_split test_live
# Tests of the live bridge link OpenSSL.
TEST_BRIDGE_TESTS := test_bridge test_live
test_pkgs = $(PKGS_SIM) cmocka $(if $(filter $(1),$(TEST_RENDER_TESTS)),$(PKGS_RENDER)) $(if $(filter $(1),$(TEST_BRIDGE_TESTS)),$(PKGS_BRIDGE))

.SECONDEXPANSION:
$(TEST_DIR)/%: tests/%.c $$(call asan_obj,$$(TEST_$$*)) tests/testkit.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SANITIZE) $(CPPFLAGS) $(call pkg_cflags,$(call test_pkgs,$*)) \
		-MMD -MP -o $@ $< $(call asan_obj,$(TEST_$*)) $(call pkg_libs,$(call test_pkgs,$*)) -lm

# gcc builds the program and the tests; clang must compile every file warning-free too.
clang-check:
	@for f in $(LIB_SRC) $(BRIDGE_SRC) $(RENDER_SRC); do \
		clang $(CSTD) $(WARN) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM) $(PKGS_RENDER)) \
			-fsyntax-only $$f || exit 1; \
	done
	@echo "clang-check: $(words $(LIB_SRC) $(BRIDGE_SRC) $(RENDER_SRC)) files compile warning-free with clang"

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/mailsim clang-check $(TEST_BIN)
	@tests/run_tests.sh $(TEST_BIN)

# ---- benchmarks (tests/bench/README.md) --------------------------------------
#   make bench   build each program tests/bench/NAME.c, optimised and without
#                sanitizers, linked with the sources its BENCH_NAME line lists
#                (and the render libraries), run them all and the bridge's load
#                test (tests/bench/run.sh) and print one table: name, median,
#                unit, reference, ratio
#   make bench-bridge   the bridge's load test alone
BENCHES := \
	bench_parsers \
	bench_compare \
	bench_frame \
	bench_e2e \

BENCH_bench_parsers := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/imap_lex.c protocols/imap_command.c protocols/imap_response.c protocols/pop3.c protocols/dns.c protocols/msg.c protocols/mime.c
BENCH_bench_compare := $(LIB_SRC) $(filter-out render/main.c render/serve.c render/ui_live.c,$(RENDER_SRC))
BENCH_bench_frame := $(LIB_SRC) $(filter-out render/main.c render/serve.c render/ui_live.c,$(RENDER_SRC))
BENCH_bench_e2e := $(PROTOCOL_SRC) sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/dns_service.c sim/store.c sim/mta.c sim/imapd.c sim/pop3d.c sim/mua.c sim/device.c

BENCH_DIR := $(BUILD)/bench
BENCH_BIN := $(BENCHES:%=$(BENCH_DIR)/%)

# (through a function: a % written in a pattern rule's prerequisites would
# be taken for the stem)
bench_obj = $(patsubst %.c,$(OBJ_DIR)/%.o,$(1))

$(BENCH_DIR)/%: tests/bench/%.c tests/bench/bench.h $$(call bench_obj,$$(BENCH_$$*))
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM) $(PKGS_RENDER)) \
		-o $@ $< $(call bench_obj,$(BENCH_$*)) \
		$(call pkg_libs,$(PKGS_SIM) $(PKGS_RENDER)) -lm

# The live bridge's load test (tests/bench/bench_bridge.py): 100 IMAP sessions
# held while smtp-source submits 20,000 messages to mailsim serve, none lost;
# then the same smtp-source run against Postfix's smtp-sink, for scale; three
# runs, medians. Loopback only, bounded in time. Its row joins the table.
BENCH_BRIDGE = tests/bench/bench_bridge.sh $(BUILD)/mailsim

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BUILD)/mailsim
	@tests/bench/run.sh $(BENCH_BIN) "$(BENCH_BRIDGE)"

.PHONY: bench-bridge
bench-bridge: $(BUILD)/mailsim
	@tests/bench/run.sh "$(BENCH_BRIDGE)"

# ---- fuzzing (tests/fuzz/README.md) -----------------------------------------
#   make fuzz [FUZZ_SECONDS=N]  run each libFuzzer target N seconds (default 20)
#                               from a copy of its corpus; fails on any crash
#   make fuzz-merge             minimise the working corpora into tests/fuzz/corpus/
# One target per parser, tests/fuzz/NAME.c -> $(BUILD)/fuzz/NAME, linked with
# the sources its FUZZ_NAME line lists, built by clang with libFuzzer.
FUZZ_TARGETS := \
	fuzz_smtp_command \
	fuzz_smtp_reply \
	fuzz_smtp_data \
	fuzz_smtp_server \
	fuzz_pop3_command \
	fuzz_pop3_response \
	fuzz_dns \
	fuzz_msg \
	fuzz_mime \
	fuzz_imap_command \
	fuzz_imap_response \
	fuzz_lesson \

FUZZ_fuzz_smtp_command := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_explain.c
FUZZ_fuzz_smtp_reply := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_explain.c
FUZZ_fuzz_smtp_data := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c
FUZZ_fuzz_smtp_server := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/smtp.c protocols/smtp_data.c protocols/smtp_server.c
FUZZ_fuzz_pop3_command := protocols/common.c protocols/linebuf.c protocols/pop3.c
FUZZ_fuzz_pop3_response := protocols/common.c protocols/linebuf.c protocols/pop3.c
FUZZ_fuzz_dns := protocols/common.c protocols/dns.c protocols/dns_mx.c
FUZZ_fuzz_msg := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c
FUZZ_fuzz_mime := protocols/common.c protocols/linebuf.c protocols/base64.c protocols/msg.c protocols/mime.c
FUZZ_fuzz_imap_command := protocols/common.c protocols/linebuf.c protocols/imap_lex.c protocols/imap_command.c
FUZZ_fuzz_imap_response := protocols/common.c protocols/linebuf.c protocols/imap_lex.c protocols/imap_response.c
FUZZ_fuzz_lesson := protocols/common.c protocols/dns.c sim/engine.c sim/eventq.c sim/net.c sim/rng.c sim/trace.c sim/scenario.c

FUZZ_SECONDS ?= 20
FUZZ_FLAGS   ?=
# `make fuzz FUZZ_CI=1` (what CI runs): each target a fixed number of
# executions with seed 1 from its committed corpus, about 30 to 100 seconds
# each on the project's machines. The same inputs every run, so CI's verdict
# does not depend on how fast or busy the machine is; longer, exploratory
# runs are `make fuzz FUZZ_SECONDS=N`.
FUZZ_CI_RUNS := \
	fuzz_smtp_command:8000000 \
	fuzz_smtp_reply:1000000 \
	fuzz_smtp_data:600000 \
	fuzz_smtp_server:350000 \
	fuzz_pop3_command:10000000 \
	fuzz_pop3_response:1200000 \
	fuzz_dns:3500000 \
	fuzz_msg:1000000 \
	fuzz_mime:400000 \
	fuzz_imap_command:500000 \
	fuzz_imap_response:600000 \
	fuzz_lesson:600000
FUZZ_CC      := clang
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

.PHONY: fuzz fuzz-merge

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $$(FUZZ_$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) $(FUZZ_CFLAGS) $(CPPFLAGS) $(call pkg_cflags,$(PKGS_SIM)) \
		-o $@ $< $(FUZZ_$*) $(call pkg_libs,$(PKGS_SIM)) -lm

fuzz: $(FUZZ_BIN)
	@failed=0; \
	for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_DIR)/corpus/$$t; log=$(FUZZ_DIR)/$$t.log; \
		mkdir -p $$work $(FUZZ_DIR)/artifacts; \
		if [ -d tests/fuzz/corpus/$$t ]; then cp -R tests/fuzz/corpus/$$t/. $$work/; fi; \
		limit="-max_total_time=$(FUZZ_SECONDS)"; \
		if [ -n "$(FUZZ_CI)" ]; then \
			for p in $(FUZZ_CI_RUNS); do case $$p in $$t:*) limit="-seed=1 -runs=$${p#*:}";; esac; done; \
		fi; \
		if nice -n 10 $(FUZZ_DIR)/$$t $$limit -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- $(FUZZ_FLAGS) $$work >$$log 2>&1; \
		then st=ok; else st=CRASH; failed=$$((failed + 1)); fi; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
		printf '%-22s %-5s %12s executions\n' $$t $$st "$${runs:-?}"; \
	done; \
	if [ $$failed -ne 0 ]; then \
		echo "make fuzz: $$failed target(s) crashed: see $(FUZZ_DIR)/*.log and $(FUZZ_DIR)/artifacts/"; \
		exit 1; \
	fi

fuzz-merge: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_DIR)/corpus/$$t; new=$(FUZZ_DIR)/merged/$$t; \
		rm -rf $$new; mkdir -p $$new $$work tests/fuzz/corpus/$$t; \
		$(FUZZ_DIR)/$$t -merge=1 $(FUZZ_FLAGS) $$new tests/fuzz/corpus/$$t $$work \
			>$(FUZZ_DIR)/$$t.merge.log 2>&1 || { echo "fuzz-merge: $$t failed, see $(FUZZ_DIR)/$$t.merge.log"; exit 1; }; \
		rm -f tests/fuzz/corpus/$$t/*; cp $$new/* tests/fuzz/corpus/$$t/ 2>/dev/null; \
		echo "$$t: $$(ls tests/fuzz/corpus/$$t | wc -l) files"; \
	done

clean:
	rm -rf $(BUILD)

# The headers each object and test program was built from (-MMD), test
# helpers' objects included, so a changed header rebuilds what uses it.
-include $(shell find $(OBJ_DIR) $(ASAN_DIR) $(TEST_DIR) -name '*.d' 2>/dev/null)
