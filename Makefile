# interv — build, test, bench, install.  Sources are found by folder, so adding a
# file under src/<layer>/ needs no edit here.
CC      ?= gcc
PREFIX  ?= /usr/local
PKGS    := openblas lapacke jansson libpcre2-8 libutf8proc libzip cairo
OPT     ?= -O3 -march=native
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -fPIC -fopenmp -D_GNU_SOURCE -Iinclude -Isrc \
           $(shell pkg-config --cflags $(PKGS))
SAN     ?=
CFLAGS  += $(SAN)
LDLIBS  += $(SAN) $(shell pkg-config --libs $(PKGS)) -lcsv -lm -fopenmp
BUILD   ?= build

LIB_SRC := $(wildcard src/io/*.c src/tok/*.c src/model/*.c src/kernels/*.c \
                      src/methods/*.c src/train/*.c src/eval/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# interv-mpi (the sweep as an MPI rank) is built when Open MPI's mpicc is there.
MPICC   ?= $(shell command -v mpicc 2>/dev/null)
MPI_BIN := $(if $(MPICC),$(BUILD)/interv-mpi)
CLI_NOMAIN := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))

.PHONY: all test unit clitest bench install clean asan fuzz
all: $(BUILD)/interv $(BUILD)/libinterv.a $(BUILD)/libinterv.so $(MPI_BIN)

$(BUILD)/src/mpi/%.o: src/mpi/%.c
	@mkdir -p $(dir $@)
	OMPI_CC=$(CC) $(MPICC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/interv-mpi: $(BUILD)/src/mpi/interv_mpi.o $(CLI_NOMAIN) $(BUILD)/libinterv.a
	OMPI_CC=$(CC) $(MPICC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libinterv.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libinterv.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/interv: $(CLI_OBJ) $(BUILD)/libinterv.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libinterv.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libinterv.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libinterv.a $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(BUILD)/libinterv.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libinterv.a $(LDLIBS)

# `make test`: unit tests (cmocka) then CLI tests (shell), one summary line.
test: all $(UNIT_BIN)
	@BUILD=$(BUILD) bash tests/run_all.sh $(UNIT_BIN)

# `make bench`: every bench once; bench_intervene over the issue's grid (all
# methods at batch 32 in f32 and bf16 compute, the logit lens at batch 7 and 105).
IV_BENCH := $(BUILD)/bench/bench_intervene
bench: all $(BENCH_BIN)
	@for b in $(filter-out $(IV_BENCH),$(BENCH_BIN)); do $$b || exit 1; done
	@$(IV_BENCH) --method all && $(IV_BENCH) --method all --bf16 --compute bf16
	@for a in 7 105; do $(IV_BENCH) --method logit --batch $$a --no-b1 && \
	    $(IV_BENCH) --method logit --batch $$a --no-b1 --bf16 --compute bf16 || exit 1; done

# Sanitizer build in its own folder: the whole suite under ASan+UBSan.
asan:
	IV_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 $(MAKE) test BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/interv
	install -m755 $(BUILD)/interv $(MPI_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m644 $(BUILD)/libinterv.a $(BUILD)/libinterv.so $(DESTDIR)$(PREFIX)/lib/
	install -m644 include/interv/*.h $(DESTDIR)$(PREFIX)/include/interv/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@PKGS@|$(PKGS)|' interv.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/interv.pc

# libFuzzer targets (clang) for every parser, into build-fuzz/
fuzz:
	$(MAKE) -f fuzz/Makefile

clean:
	rm -rf build build-asan build-fuzz build-valgrind

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
