// clonesim accelerator top.  One clock: the DVFS domains (compute, memory,
// always-on) are kept apart by sync-cycle delay lines exactly where the
// timing contract puts synchronisers (docs/timing.md), so this RTL and the
// SystemC model agree cycle for cycle on design points whose domains share
// one clock.
//
// Units: 0 controller; 1+2c load[c], 2+2c store[c] (DMA channel c); then per
// tile t: matrix[t], vector[t].  Issue priority is this order.
//
// Written in the SystemVerilog subset that both Verilator and yosys read
// (docs/rtl.md): flat vectors instead of packed multi-dimensional arrays,
// unpacked arrays for per-unit state, no return statements.
module cs_top #(
`include "cs_cfg.svh"
) (
    input  logic clk,
    input  logic rst_n,
    // program and context registers, loaded before `go`
    input  logic prog_we,
    input  logic [IMEM_AW-1:0] prog_addr,
    input  logic [255:0] prog_data,
    input  logic [31:0] prog_len,
    input  logic ctx_we,
    input  logic [2:0] ctx_idx,
    input  logic [63:0] ctx_data,
    input  logic go,                 // the cycle after `go` is cycle 0
    output logic halted,
    output logic [63:0] cycles,      // cycle count when halted
    // DRAM port (served by the C++ DRAM model)
    output logic req_valid,
    output logic req_write,
    output logic [47:0] req_addr,
    output logic [12:0] req_bytes,
    output logic [7:0] req_tag,
    output logic [DMA_BURST*8-1:0] req_wdata,
    input  logic resp_valid,
    output logic resp_ready,
    input  logic [DMA_BURST*8-1:0] resp_data,
    input  logic [DMA_OUT-1:0] wack,
    // retirements: unit u completes instruction retire_index[32u+:32] this cycle
    output logic [NU-1:0] retire_valid,
    output logic [NU*32-1:0] retire_index,
    // DVFS control registers: operating point index of domain d in [8d+:8]
    output logic [23:0] dvfs_point,
    // debug read of a tile memory line
    input  logic [7:0] dbg_tile,
    input  logic dbg_space,
    input  logic [(SP_LAW > ACC_LAW ? SP_LAW : ACC_LAW)-1:0] dbg_line,
    output logic [LB_MAX*8-1:0] dbg_data
);
`include "cs_isa.svh"
  localparam int FT = 1 + 2 * DMA_CH;  // first tile unit
  localparam int QW = $clog2(QDEPTH + 1);
  localparam int MXQ = MXU_R + MXU_C + 4;  // in-flight instructions per unit
  localparam int FLW = $clog2(MXQ + 1);
  localparam int DOM_C = 0, DOM_M = 1, DOM_A = 2;
  // bank masks: scratchpad banks in [MB-1:0], accumulator banks in [2*MB-1:MB]
  localparam int MB = SP_BANKS > ACC_BANKS ? SP_BANKS : ACC_BANKS;
  localparam int HB = 2 * MB * 4;  // per-unit hold counters, 4 bits per (space, bank)
  // index widths of the per-unit arrays
  localparam int UIW = $clog2(NU);
  localparam int QIW = QDEPTH > 1 ? $clog2(QDEPTH) : 1;

  function automatic int dom_of(input int u);
    dom_of = u == 0 ? DOM_A : (u < FT ? DOM_M : DOM_C);
  endfunction
  function automatic int tile_of(input int u);
    tile_of = u < FT ? 0 : (u - FT) / 2;
  endfunction

  // ------------------------------------------------------------------ state
  logic running;
  logic [63:0] now;
  logic [31:0] plen;
  logic [63:0] ctx[8];
  logic [31:0] pc;
  logic [63:0] ctrl_next;
  logic [191:0] trans_until;             // per domain d: [64d+:64]
  logic [191:0] dispatched, done_seen;   // per domain d: [64d+:64]

  // ------------------------------------------------------------------ program memory
  // An SRAM macro: written before `go`, read combinationally at pc.
  logic [255:0] imem_rd;
  cs_sram_bank #(.LB(32), .DEPTH(IMEM_DEPTH), .NR(1), .NW(1)) u_imem (
      .clk, .raddr(pc[IMEM_AW-1:0]), .rdata(imem_rd), .we(prog_we), .waddr(prog_addr), .wmask({32{1'b1}}),
      .wdata(prog_data));

  // ------------------------------------------------------------------ queues
  // Each unit queue: SYNC-1 register stages from the controller, then the
  // FIFO write: an entry pushed in cycle t is at the head from cycle t+SYNC.
  localparam int DL = SYNC > 1 ? SYNC - 1 : 1;
  logic [NU-1:0] push;                 // controller pushes this cycle
  logic [NU-1:0] start;                // the unit starts its queue head this cycle
  logic [255:0] push_word[NU];
  logic [31:0] push_idx[NU];
  // exported by each unit's queue block
  logic [NU*256-1:0] q_head;            // head instruction of unit u: [256u+:256]
  logic [NU*32-1:32] q_head_idx;        // its program index (units 1..NU-1)
  logic [NU-1:0] head_v;                // the queue is not empty
  logic [NU*(QW+1)-1:0] occ_seen;       // the controller's count: pops that crossed back this cycle no longer count
  assign q_head[0+:256] = '0;
  assign head_v[0] = 1'b0;
  assign occ_seen[0+:QW+1] = '0;
  for (genvar u = 1; u < NU; u++) begin : g_queue
    logic [255:0] dl_word[DL];
    logic [DL-1:0] dl_v;
    logic [31:0] dl_idx[DL];
    logic [255:0] q_word[QDEPTH];
    logic [31:0] q_idx[QDEPTH];
    logic [QW-1:0] q_n;
    logic [SYNC-1:0] pop_dl;            // pops on their way back to the controller
    logic [QW:0] occ;                   // what the controller counts
    always_ff @(posedge clk or negedge rst_n)
      if (!rst_n) begin
        dl_v <= '0;
        q_n <= '0;
        pop_dl <= '0;
        occ <= '0;
      end else begin
        logic [QW-1:0] n;
        logic in_v;
        n = q_n;
        in_v = SYNC > 1 ? dl_v[DL-1] : push[u];
        if (start[u]) begin  // the unit starts its head: pop
          for (int i = 0; i + 1 < QDEPTH; i++) begin
            q_word[i] <= q_word[i+1];
            q_idx[i] <= q_idx[i+1];
          end
          n = n - 1'b1;
        end
        if (in_v) begin
          q_word[QIW'(n)] <= SYNC > 1 ? dl_word[DL-1] : push_word[u];
          q_idx[QIW'(n)] <= SYNC > 1 ? dl_idx[DL-1] : push_idx[u];
          n = n + 1'b1;
        end
        q_n <= n;
        dl_v[0] <= push[u];
        dl_word[0] <= push_word[u];
        dl_idx[0] <= push_idx[u];
        for (int s = 1; s < DL; s++) begin
          dl_v[s] <= dl_v[s-1];
          dl_word[s] <= dl_word[s-1];
          dl_idx[s] <= dl_idx[s-1];
        end
        pop_dl[0] <= start[u];
        for (int s = 1; s < SYNC; s++) pop_dl[s] <= pop_dl[s-1];
        // occupancy: +1 per push; -1 once a pop has crossed back (SYNC cycles)
        occ <= occ + (QW+1)'(push[u]) - (QW+1)'(pop_dl[SYNC-1]);
      end
    assign q_head[u*256+:256] = q_word[0];
    assign q_head_idx[u*32+:32] = q_idx[0];
    assign head_v[u] = q_n != 0;
    assign occ_seen[u*(QW+1)+:QW+1] = occ - (QW+1)'(pop_dl[SYNC-1]);
  end

  // ------------------------------------------------------------------ semaphores
  // value seen by domain Y = arrived[Y] (+ what arrives now) - consumed
  logic [7:0] sig_now[3][NSEM];        // signals raised this cycle, by source domain
  logic [7:0] incoming[3][NSEM];       // signals reaching each domain this cycle
  logic [7:0] take_total[NSEM];        // waits consumed this cycle
  // exported by each semaphore's block
  logic [3*NSEM*32-1:0] arrived_f;     // signals that reached domain y: [(y*NSEM+j)*32+:32]
  logic [NSEM*32-1:0] consumed_f;      // waits that consumed: [j*32+:32]
  logic [3*NSEM*8-1:0] crossed_f;      // signals leaving the synchroniser into domain y this cycle
  always_comb
    for (int y = 0; y < 3; y++)
      for (int j = 0; j < NSEM; j++) incoming[y][j] = sig_now[y][j] + crossed_f[(y*NSEM+j)*8+:8];
  for (genvar j = 0; j < NSEM; j++) begin : g_sem
    logic [31:0] consumed;
    logic [31:0] arrived[3];
    logic [7:0] xdl[SYNC][3];          // crossing signals, by destination domain
    always_ff @(posedge clk or negedge rst_n)
      if (!rst_n) begin
        consumed <= '0;
        for (int y = 0; y < 3; y++) begin
          arrived[y] <= '0;
          for (int s = 0; s < SYNC; s++) xdl[s][y] <= '0;
        end
      end else begin
        for (int y = 0; y < 3; y++) begin
          logic [7:0] x;
          x = '0;
          for (int d = 0; d < 3; d++) if (d != y) x += sig_now[d][j];
          xdl[0][y] <= x;  // stage s takes stage s-1
          for (int s = 1; s < SYNC; s++) xdl[s][y] <= xdl[s-1][y];
          arrived[y] <= arrived[y] + 32'(incoming[y][j]);
        end
        consumed <= consumed + 32'(take_total[j]);
      end
    assign consumed_f[j*32+:32] = consumed;
    for (genvar y = 0; y < 3; y++) begin : g_dom
      assign arrived_f[(y*NSEM+j)*32+:32] = arrived[y];
      assign crossed_f[(y*NSEM+j)*8+:8] = xdl[SYNC-1][y];
    end
  end

  function automatic int sem_idx(input int t, input int id);
    sem_idx = id >= 16 ? 16 * TILES + (id - 16) : t * 16 + id;
  endfunction
  // semaphore ids {id1, id0} (0 = none) on the tiles in `tm` -> 2-bit count per semaphore
  function automatic logic [2*NSEM-1:0] sem_count(input logic [9:0] ids, input logic [TILES-1:0] tm);
    logic [2*NSEM-1:0] n;
    int id;
    n = '0;
    for (int k = 0; k < 2; k++) begin
      id = 32'(ids[5*k+:5]);
      if (id != 0) begin
        if (id >= 16) n[2*sem_idx(0, id)+:2] = n[2*sem_idx(0, id)+:2] + 2'd1;
        else
          for (int t = 0; t < TILES; t++)
            if (tm[t]) n[2*sem_idx(t, id)+:2] = n[2*sem_idx(t, id)+:2] + 2'd1;
      end
    end
    sem_count = n;
  endfunction
  function automatic logic [9:0] wait_ids(input logic [255:0] x);
    wait_ids = {5'(fld(x, FW_WAIT1, FL_WAIT1, FB_WAIT1)), 5'(fld(x, FW_WAIT0, FL_WAIT0, FB_WAIT0))};
  endfunction
  function automatic logic [9:0] signal_ids(input logic [255:0] x);
    signal_ids = {5'(fld(x, FW_SIGNAL1, FL_SIGNAL1, FB_SIGNAL1)), 5'(fld(x, FW_SIGNAL0, FL_SIGNAL0, FB_SIGNAL0))};
  endfunction
  // the tiles of a tile field (63 = all)
  function automatic logic [TILES-1:0] tiles_of(input logic [5:0] t);
    tiles_of = t == 6'd63 ? {TILES{1'b1}} : TILES'(1) << t;
  endfunction
  function automatic logic [TILES-1:0] tmask_of(input logic [255:0] x);
    tmask_of = tiles_of(6'(fld(x, FW_TILE, FL_TILE, FB_TILE)));
  endfunction
  // may a wait take `need` from a semaphore: its value in the domain (arrived
  // - consumed, negative while a signal consumed elsewhere has not crossed
  // here yet) less what earlier units took this cycle is at least `need`
  function automatic logic sem_ok(input logic [31:0] arr, input logic [7:0] inc, input logic [31:0] cons,
                                  input logic [7:0] taken, input logic [1:0] need);
    sem_ok = need == 2'd0 || $signed(arr + 32'(inc) - cons - 32'(taken)) >= $signed({30'd0, need});
  endfunction

  // ------------------------------------------------------------------ banks
  function automatic logic [MB-1:0] range_mask(input logic [63:0] addr, input logic [63:0] bytes, input logic acc);
    logic [63:0] first, last;
    logic [MB-1:0] m;
    first = acc ? addr / 64'(ACC_LB * ACC_DEPTH) : addr / 64'(SP_LB * SP_DEPTH);
    last = acc ? (addr + bytes - 1) / 64'(ACC_LB * ACC_DEPTH) : (addr + bytes - 1) / 64'(SP_LB * SP_DEPTH);
    m = '0;
    for (int b = 0; b < MB; b++)
      if (b < (acc ? ACC_BANKS : SP_BANKS) && 64'(b) >= first && 64'(b) <= last) m[b] = 1'b1;
    range_mask = m;
  endfunction
  // bytes of a matmul's tile-major weights: the sum over its array tiles of
  // ceil(k_i * n_j * bits / 8).  int4: (K*N + tiles of odd k_i*n_j) / 2, with
  // odd k-slices: the K / R full ones if R is odd, and the partial K % R one
  // if odd (n-slices likewise).
  function automatic logic [63:0] mm_wbytes(input logic [11:0] K, input logic [11:0] N, input logic int4);
    logic [11:0] kf, nf;     // full slices
    logic kodd, nodd;        // the partial slice is odd: K - kf*R is odd
    logic [12:0] ok, on;     // odd k-slices, odd n-slices
    logic [24:0] kn, half;
    kf = K / 12'(MXU_R);
    nf = N / 12'(MXU_C);
    kodd = K[0] ^ (MXU_R % 2 == 1 && kf[0]);
    nodd = N[0] ^ (MXU_C % 2 == 1 && nf[0]);
    ok = {1'b0, MXU_R % 2 == 1 ? kf : 12'd0} + {12'd0, kodd};
    on = {1'b0, MXU_C % 2 == 1 ? nf : 12'd0} + {12'd0, nodd};
    kn = {13'd0, K} * {13'd0, N};
    half = (kn + {12'd0, ok} * {12'd0, on}) >> 1;
    mm_wbytes = {39'd0, int4 ? half : kn};
  endfunction
  // banks an instruction holds while in flight: [sp*MB + b]
  function automatic logic [2*MB-1:0] banks_of(input logic [255:0] x);
    logic [2*MB-1:0] m;
    logic [7:0] o;
    logic [63:0] M, K, N, wb;
    logic sp, asp, bsp, dsp;
    logic [1:0] bm;
    m = '0;
    o = 8'(fld(x, FW_OPCODE, FL_OPCODE, FB_OPCODE));
    M = fld(x, FW_M, FL_M, FB_M);
    K = fld(x, FW_K, FL_K, FB_K);
    N = fld(x, FW_N, FL_N, FB_N);
    wb = mm_wbytes(12'(K), 12'(N), fld(x, FW_WTYPE, FL_WTYPE, FB_WTYPE) != 0);
    sp = fld(x, FW_SPACE, FL_SPACE, FB_SPACE) != 0;
    asp = fld(x, FW_ASPACE, FL_ASPACE, FB_ASPACE) != 0;
    bsp = fld(x, FW_BSPACE, FL_BSPACE, FB_BSPACE) != 0;
    dsp = fld(x, FW_DSPACE, FL_DSPACE, FB_DSPACE) != 0;
    bm = 2'(fld(x, FW_BMODE, FL_BMODE, FB_BMODE));
    if (o == OP_LOAD || o == OP_STORE) begin
      m[sp*MB+:MB] = range_mask(fld(x, FW_SRAM, FL_SRAM, FB_SRAM),
                                (fld(x, FW_ROWS, FL_ROWS, FB_ROWS) - 1) * fld(x, FW_SSTRIDE, FL_SSTRIDE, FB_SSTRIDE) +
                                fld(x, FW_BYTES, FL_BYTES, FB_BYTES), sp);
    end else if (o == OP_MATMUL) begin
      m[0+:MB] = range_mask(fld(x, FW_WGT, FL_WGT, FB_WGT), wb, 1'b0) |
                 range_mask(fld(x, FW_ACT, FL_ACT, FB_ACT), (M - 1) * fld(x, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE) + K, 1'b0);
      m[MB+:MB] = range_mask(fld(x, FW_ACC, FL_ACC, FB_ACC), (M - 1) * fld(x, FW_CSTRIDE, FL_CSTRIDE, FB_CSTRIDE) + 4 * N,
                             1'b1);
    end else begin
      // vector: the bank of each operand (operands never cross a bank)
      m[asp*MB+:MB] = m[asp*MB+:MB] | range_mask(fld(x, FW_A, FL_A, FB_A), 64'd1, asp);
      if (o != OP_LUTLD) begin
        if (o == OP_VREQUANT) begin
          if (bm == BM_VEC) m[MB+:MB] = m[MB+:MB] | range_mask(fld(x, FW_B, FL_B, FB_B), 64'd1, 1'b1);
        end else if (bm == BM_VEC || bm == BM_SCALAR)
          m[bsp*MB+:MB] = m[bsp*MB+:MB] | range_mask(fld(x, FW_B, FL_B, FB_B), 64'd1, bsp);
        m[dsp*MB+:MB] = m[dsp*MB+:MB] | range_mask(fld(x, FW_DST, FL_DST, FB_DST), 64'd1, dsp);
      end
    end
    banks_of = m;
  endfunction

  // holds: per unit, in-flight instructions touching each bank (4-bit count at [4(sp*MB+b)+:4])
  logic [NU*HB-1:0] hold_f;        // unit u: [u*HB+:HB] (exported by its flight block)
  logic [NU*TILES-1:0] hold_tm_f;  // tiles of the unit's holds: [u*TILES+:TILES]

  // ------------------------------------------------------------------ in flight
  // per unit, the instructions started and not completed, oldest first: what
  // their completion needs (banks to release, semaphores to signal, tiles,
  // program index).  A matrix unit has up to MXQ in flight; the DMA queues
  // and a vector unit one.
  function automatic int cap_of(input int u);
    cap_of = u >= FT && (u - FT) % 2 == 0 ? MXQ : 1;
  endfunction
  // the oldest in flight of unit u (exported by its flight block)
  logic [NU*2*MB-1:0] fl_banks0;   // [u*2*MB+:2*MB]
  logic [NU*10-1:0] fl_sig0;       // [u*10+:10]
  logic [NU*6-1:0] fl_tile0;       // [u*6+:6]
  logic [NU*32-1:0] fl_idx0;       // [u*32+:32]
  logic [NU-1:0] unit_done;

  // ------------------------------------------------------------------ units
  logic dma_start, dma_free, dma_done;
  logic [255:0] dma_word;
  logic [31:0] dma_unit;  // queue unit the engine serves
  logic [31:0] dma_last;  // last served queue unit
  logic [TILES-1:0] dsp_we, dacc_we;
  logic [SP_LAW-1:0] dsp_wa, dsp_ra;
  logic [SP_LB-1:0] dsp_wm;
  logic [SP_LB*8-1:0] dsp_wd;
  logic [ACC_LAW-1:0] dacc_wa, dacc_ra;
  logic [ACC_LB-1:0] dacc_wm;
  logic [ACC_LB*8-1:0] dacc_wd;
  logic [7:0] drd_tile;
  logic [TILES*SP_LB*8-1:0] dsp_rd;
  logic [TILES*ACC_LB*8-1:0] dacc_rd;
  wire [7:0] drd_t = drd_tile < 8'(TILES) ? drd_tile : 8'd0;

  cs_dma u_dma (
      .clk, .rst_n, .start(dma_start), .word(dma_word), .free(dma_free), .done(dma_done),
      .req_valid, .req_write, .req_addr, .req_bytes, .req_tag, .req_wdata, .resp_valid, .resp_ready,
      .resp_data, .wack, .sp_we(dsp_we), .sp_wa(dsp_wa), .sp_wm(dsp_wm), .sp_wd(dsp_wd),
      .acc_we(dacc_we), .acc_wa(dacc_wa), .acc_wm(dacc_wm), .acc_wd(dacc_wd), .rd_tile(drd_tile),
      .sp_ra(dsp_ra), .sp_rd(dsp_rd[drd_t*SP_LB*8+:SP_LB*8]), .acc_ra(dacc_ra),
      .acc_rd(dacc_rd[drd_t*ACC_LB*8+:ACC_LB*8]));

  logic [TILES-1:0] mx_accept, mx_done, vx_free, vx_done;
  logic [TILES*SP_LB*8-1:0] sp_dbg;
  logic [TILES*ACC_LB*8-1:0] acc_dbg;

  for (genvar t = 0; t < TILES; t++) begin : g_tile
    localparam int MU = FT + 2 * t, VU = FT + 2 * t + 1;
    // scratchpad read ports: 0 DMA, 1-2 MXU (weights, activations), 3-4 VXU (a, b)
    // scratchpad write ports: 0 DMA, 1 VXU
    logic [5*SP_LAW-1:0] sp_ra;
    logic [5*SP_LB*8-1:0] sp_rd;
    logic [1:0] sp_we;
    logic [2*SP_LAW-1:0] sp_wa;
    logic [2*SP_LB-1:0] sp_wm;
    logic [2*SP_LB*8-1:0] sp_wd;
    // accumulator read ports: 0 DMA, 1-2 MXU, 3-5 VXU; write ports: 0 DMA, 1-2 MXU, 3 VXU
    logic [6*ACC_LAW-1:0] acc_ra;
    logic [6*ACC_LB*8-1:0] acc_rd;
    logic [3:0] acc_we;
    logic [4*ACC_LAW-1:0] acc_wa;
    logic [4*ACC_LB-1:0] acc_wm;
    logic [4*ACC_LB*8-1:0] acc_wd;

    cs_sram #(.BANKS(SP_BANKS), .LB(SP_LB), .DEPTH(SP_DEPTH), .NR(5), .NW(2)) u_sp (
        .clk, .raddr(sp_ra), .rdata(sp_rd), .we(sp_we), .waddr(sp_wa), .wmask(sp_wm), .wdata(sp_wd),
        .dbg_addr(dbg_line[SP_LAW-1:0]), .dbg_data(sp_dbg[t*SP_LB*8+:SP_LB*8]));
    cs_sram #(.BANKS(ACC_BANKS), .LB(ACC_LB), .DEPTH(ACC_DEPTH), .NR(6), .NW(4)) u_acc (
        .clk, .raddr(acc_ra), .rdata(acc_rd), .we(acc_we), .waddr(acc_wa), .wmask(acc_wm), .wdata(acc_wd),
        .dbg_addr(dbg_line[ACC_LAW-1:0]), .dbg_data(acc_dbg[t*ACC_LB*8+:ACC_LB*8]));

    // DMA: read port 0, write port 0
    assign sp_ra[0+:SP_LAW] = dsp_ra;
    assign acc_ra[0+:ACC_LAW] = dacc_ra;
    assign dsp_rd[t*SP_LB*8+:SP_LB*8] = sp_rd[0+:SP_LB*8];
    assign dacc_rd[t*ACC_LB*8+:ACC_LB*8] = acc_rd[0+:ACC_LB*8];
    assign sp_we[0] = dsp_we[t];
    assign sp_wa[0+:SP_LAW] = dsp_wa;
    assign sp_wm[0+:SP_LB] = dsp_wm;
    assign sp_wd[0+:SP_LB*8] = dsp_wd;
    assign acc_we[0] = dacc_we[t];
    assign acc_wa[0+:ACC_LAW] = dacc_wa;
    assign acc_wm[0+:ACC_LB] = dacc_wm;
    assign acc_wd[0+:ACC_LB*8] = dacc_wd;

    cs_mxu u_mxu (
        .clk, .rst_n, .now, .head(q_head[MU*256+:256]), .can_accept(mx_accept[t]), .start(start[MU]),
        .done(mx_done[t]), .sp_ra(sp_ra[SP_LAW+:2*SP_LAW]), .sp_rd(sp_rd[SP_LB*8+:2*SP_LB*8]),
        .acc_ra(acc_ra[ACC_LAW+:2*ACC_LAW]), .acc_rd(acc_rd[ACC_LB*8+:2*ACC_LB*8]), .acc_we(acc_we[2:1]),
        .acc_wa(acc_wa[ACC_LAW+:2*ACC_LAW]), .acc_wm(acc_wm[ACC_LB+:2*ACC_LB]), .acc_wd(acc_wd[ACC_LB*8+:2*ACC_LB*8]));
    cs_vxu u_vxu (
        .clk, .rst_n, .start(start[VU]), .word(q_head[VU*256+:256]), .free(vx_free[t]), .done(vx_done[t]),
        .sp_ra(sp_ra[3*SP_LAW+:2*SP_LAW]), .sp_rd(sp_rd[3*SP_LB*8+:2*SP_LB*8]), .sp_we(sp_we[1]),
        .sp_wa(sp_wa[SP_LAW+:SP_LAW]), .sp_wm(sp_wm[SP_LB+:SP_LB]), .sp_wd(sp_wd[SP_LB*8+:SP_LB*8]),
        .acc_ra(acc_ra[3*ACC_LAW+:3*ACC_LAW]), .acc_rd(acc_rd[3*ACC_LB*8+:3*ACC_LB*8]), .acc_we(acc_we[3]),
        .acc_wa(acc_wa[3*ACC_LAW+:ACC_LAW]), .acc_wm(acc_wm[3*ACC_LB+:ACC_LB]), .acc_wd(acc_wd[3*ACC_LB*8+:ACC_LB*8]));
  end

  always_comb begin
    dbg_data = '0;
    for (int t = 0; t < TILES; t++)
      if (dbg_tile == 8'(t))
        dbg_data = dbg_space ? (LB_MAX*8)'(acc_dbg[t*ACC_LB*8+:ACC_LB*8]) : (LB_MAX*8)'(sp_dbg[t*SP_LB*8+:SP_LB*8]);
  end

  // ------------------------------------------------------------------ controller
  logic ctrl_sig_due;               // a control instruction with signals completes
  logic [9:0] ctrl_sig_ids;
  logic [5:0] ctrl_sig_tile;
  logic [63:0] ctrl_sig_at;
  logic ctrl_sig_pending;
  assign ctrl_sig_due = ctrl_sig_pending && now == ctrl_sig_at;

  // unit completions this cycle
  always_comb begin
    unit_done = '0;
    unit_done[0] = ctrl_sig_due;
    for (int u = 1; u < FT; u++) unit_done[u] = dma_done && dma_unit == 32'(u);
    for (int t = 0; t < TILES; t++) begin
      unit_done[FT+2*t] = mx_done[t];
      unit_done[FT+2*t+1] = vx_done[t];
    end
  end

  // signals and bank releases of the completing instructions
  logic [2*MB-1:0] rel_mask[NU];
  always_comb begin
    for (int d = 0; d < 3; d++)
      for (int j = 0; j < NSEM; j++) sig_now[d][j] = '0;
    for (int u = 0; u < NU; u++) begin
      logic [2*NSEM-1:0] s;
      s = '0;
      rel_mask[u] = '0;
      if (unit_done[u]) begin
        if (u == 0) s = sem_count(ctrl_sig_ids, tiles_of(ctrl_sig_tile));
        else s = sem_count(fl_sig0[u*10+:10], u < FT ? tiles_of(fl_tile0[u*6+:6]) : TILES'(1) << tile_of(u));
        for (int j = 0; j < NSEM; j++) sig_now[dom_of(u)][j] += 8'(s[2*j+:2]);
        if (u != 0) rel_mask[u] = fl_banks0[u*2*MB+:2*MB];
      end
    end
  end

  logic [255:0] fword, rword;
  logic [7:0] fop;
  logic fetch_ok;
  always_comb begin
    logic [2:0] cr, ar;
    logic ca;
    fword = pc < plen ? imem_rd : 256'(OP_HALT);
    fop = fword[7:0];
    rword = fword;
    // context registers: count field (with cnt_alt the alternate count field:
    // load/store bytes, matmul k) and DRAM address
    cr = 3'(fld(fword, FW_CNT_REG, FL_CNT_REG, FB_CNT_REG));
    ca = fld(fword, FW_CNT_ALT, FL_CNT_ALT, FB_CNT_ALT) != 0;
    ar = 3'(fld(fword, FW_ADDR_REG, FL_ADDR_REG, FB_ADDR_REG));
    if (cr != 0 && ca) begin
      if (fop == OP_LOAD || fop == OP_STORE) rword = setf(rword, FW_BYTES, FL_BYTES, FB_BYTES, ctx[cr]);
      else if (fop == OP_MATMUL) rword = setf(rword, FW_K, FL_K, FB_K, ctx[cr]);
    end else if (cr != 0) begin
      if (fop == OP_LOAD || fop == OP_STORE) rword = setf(rword, FW_ROWS, FL_ROWS, FB_ROWS, ctx[cr]);
      else if (fop == OP_MATMUL) rword = setf(rword, FW_M, FL_M, FB_M, ctx[cr]);
      else if (fop >= 8'h30 && fop != OP_LUTLD) rword = setf(rword, FW_LEN, FL_LEN, FB_LEN, ctx[cr]);
    end
    if (ar != 0) rword = setf(rword, FW_DRAM, FL_DRAM, FB_DRAM, fld(fword, FW_DRAM, FL_DRAM, FB_DRAM) + ctx[ar]);
    fetch_ok = running && !halted && now >= ctrl_next && now >= trans_until[DOM_A*64+:64];
  end

  // targets of the fetched unit instruction
  logic [NU-1:0] targets;
  always_comb begin
    logic [5:0] t6;
    t6 = 6'(fld(rword, FW_TILE, FL_TILE, FB_TILE));
    targets = '0;
    if (fop == OP_LOAD || fop == OP_STORE)
      targets[1+2*(t6 == 6'd63 ? 0 : 32'(t6) % DMA_CH)+(fop == OP_STORE ? 1 : 0)] = 1'b1;
    else if (fop >= 8'h20)
      for (int t = 0; t < TILES; t++)
        if (t6 == 6'd63 || t6 == 6'(t)) targets[FT+2*t+(fop == OP_MATMUL ? 0 : 1)] = 1'b1;
  end

  // completions as the controller sees them (SYNC cycles later)
  logic [7:0] cdl[3][SYNC];
  logic [191:0] done_seen_now;
  always_comb
    for (int d = 0; d < 3; d++) done_seen_now[d*64+:64] = done_seen[d*64+:64] + 64'(cdl[d][SYNC-1]);

  // ------------------------------------------------------------------ issue
  // One combinational pass in priority order; semaphores and bank ports
  // taken by an earlier unit this cycle are not available to a later one.
  // holders/newly: per tile, units holding / starting on each (space, bank),
  // 4-bit counts at [4((t*2+sp)*MB+b)+:4].
  logic ctrl_exec;
  always_comb begin
    logic [7:0] taken[NSEM];
    logic [TILES*HB-1:0] holders, newly;
    logic [2*NSEM-1:0] need;
    logic [2*MB-1:0] bm;
    logic [TILES-1:0] tm;
    logic [255:0] x;
    logic ok, ready;
    logic [UIW-1:0] u;
    need = '0;
    bm = '0;
    tm = '0;
    x = '0;
    ok = 0;
    ready = 0;
    u = '0;
    for (int j = 0; j < NSEM; j++) taken[j] = '0;
    newly = '0;
    start = '0;
    push = '0;
    for (int v = 0; v < NU; v++) begin
      push_word[v] = rword;
      push_idx[v] = pc;
    end
    ctrl_exec = 0;
    dma_start = 0;
    dma_word = '0;
    // holders now (completions this cycle release first)
    holders = '0;
    for (int v = 1; v < NU; v++)
      for (int i = 0; i < 2 * MB; i++)
        if (hold_f[v*HB+4*i+:4] - 4'(rel_mask[v][i]) != 0)
          for (int t = 0; t < TILES; t++)
            if (hold_tm_f[v*TILES+t]) holders[4*(t*2*MB+i)+:4] = holders[4*(t*2*MB+i)+:4] + 4'd1;

    // --- controller
    if (fetch_ok) begin
      if (fop < 8'h10) begin
        need = sem_count(wait_ids(rword), tmask_of(rword));
        ok = 1;
        for (int j = 0; j < NSEM; j++)
          if (!sem_ok(arrived_f[(DOM_A*NSEM+j)*32+:32], incoming[DOM_A][j], consumed_f[j*32+:32], 8'd0, need[2*j+:2])) ok = 0;
        if ((fop == OP_HALT || fop == OP_DVFS) && dispatched != done_seen_now) ok = 0;
        if (ok) begin
          ctrl_exec = 1;
          for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[2*j+:2]);
        end
      end else begin
        ok = 1;
        for (int v = 1; v < NU; v++)
          if (targets[v] && occ_seen[v*(QW+1)+:QW+1] >= (QW+1)'(QDEPTH)) ok = 0;
        if (ok) begin
          ctrl_exec = 1;
          for (int v = 1; v < NU; v++)
            if (targets[v]) begin
              push[v] = 1;
              push_word[v] = v >= FT ? setf(rword, FW_TILE, FL_TILE, FB_TILE, 64'(tile_of(v))) : rword;
            end
        end
      end
    end

    // --- DMA: the engine takes the ready queues round-robin
    if (dma_free && now >= trans_until[DOM_M*64+:64])
      for (int k = 0; k < 2 * DMA_CH; k++) begin
        u = UIW'(1 + (dma_last - 1 + 1 + 32'(k)) % (2 * DMA_CH));  // the queue after the last served
        if (!dma_start && head_v[u]) begin
          x = q_head[u*256+:256];
          tm = tmask_of(x);
          need = sem_count(wait_ids(x), tm);
          bm = banks_of(x);
          ok = 1;
          for (int j = 0; j < NSEM; j++)
            if (!sem_ok(arrived_f[(DOM_M*NSEM+j)*32+:32], incoming[DOM_M][j], consumed_f[j*32+:32], taken[j], need[2*j+:2])) ok = 0;
          for (int t = 0; t < TILES; t++)
            if (tm[t])
              for (int i = 0; i < 2 * MB; i++)
                if (bm[i] && hold_f[u*HB+4*i+:4] - 4'(rel_mask[u][i]) == 0 &&
                    32'(holders[4*(t*2*MB+i)+:4]) + 32'(newly[4*(t*2*MB+i)+:4]) >= (i >= MB ? ACC_PORTS : SP_PORTS))
                  ok = 0;
          if (ok) begin
            dma_start = 1;
            dma_word = x;
            start[u] = 1;
            for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[2*j+:2]);
            for (int t = 0; t < TILES; t++)
              if (tm[t])
                for (int i = 0; i < 2 * MB; i++)
                  if (bm[i] && hold_f[u*HB+4*i+:4] - 4'(rel_mask[u][i]) == 0)
                    newly[4*(t*2*MB+i)+:4] = newly[4*(t*2*MB+i)+:4] + 4'd1;
          end
        end
      end

    // --- tiles: MXU then VXU
    if (now >= trans_until[DOM_C*64+:64])
      for (int t = 0; t < TILES; t++)
        for (int k = 0; k < 2; k++) begin
          u = UIW'(FT + 2 * t + k);
          ready = k == 0 ? mx_accept[t] : vx_free[t];
          if (head_v[u] && ready) begin
            x = q_head[u*256+:256];
            need = sem_count(wait_ids(x), TILES'(1) << t);
            bm = banks_of(x);
            ok = 1;
            for (int j = 0; j < NSEM; j++)
              if (!sem_ok(arrived_f[(DOM_C*NSEM+j)*32+:32], incoming[DOM_C][j], consumed_f[j*32+:32], taken[j], need[2*j+:2])) ok = 0;
            for (int i = 0; i < 2 * MB; i++)
              if (bm[i] && hold_f[u*HB+4*i+:4] - 4'(rel_mask[u][i]) == 0 &&
                  32'(holders[4*(t*2*MB+i)+:4]) + 32'(newly[4*(t*2*MB+i)+:4]) >= (i >= MB ? ACC_PORTS : SP_PORTS))
                ok = 0;
            if (ok) begin
              start[u] = 1;
              for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[2*j+:2]);
              for (int i = 0; i < 2 * MB; i++)
                if (bm[i] && hold_f[u*HB+4*i+:4] - 4'(rel_mask[u][i]) == 0)
                  newly[4*(t*2*MB+i)+:4] = newly[4*(t*2*MB+i)+:4] + 4'd1;
            end
          end
        end
    for (int j = 0; j < NSEM; j++) take_total[j] = taken[j];
  end

  // ------------------------------------------------------------------ sequential
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      running <= 0;
      halted <= 0;
      now <= 0;
      pc <= 0;
      ctrl_next <= 0;
      trans_until <= '0;
      dispatched <= '0;
      done_seen <= '0;
      for (int d = 0; d < 3; d++)
        for (int s = 0; s < SYNC; s++) cdl[d][s] <= '0;
      ctrl_sig_pending <= 0;
      dma_last <= 0;
      dma_unit <= 0;
      cycles <= 0;
      plen <= 0;
      dvfs_point <= INIT_POINT;
      for (int i = 0; i < 8; i++) ctx[i] <= 0;
    end else begin
      logic [191:0] dd;
      logic [1:0] dom;
      logic [2:0] reg_, src;
      logic [63:0] value;
      dom = 2'(fld(rword, FW_DOMAIN, FL_DOMAIN, FB_DOMAIN));
      reg_ = 3'(fld(rword, FW_REG, FL_REG, 3));
      src = 3'(fld(rword, FW_SRC, FL_SRC, 3));
      value = fld(rword, FW_VALUE, FL_VALUE, 64);

      if (ctx_we && ctx_idx != 0) ctx[ctx_idx] <= ctx_data;
      if (go) begin
        running <= 1;
        now <= 0;
        plen <= prog_len;
      end else if (running && !halted) now <= now + 1;

      // completions seen by the controller
      for (int d = 0; d < 3; d++) begin
        logic [7:0] c;
        c = '0;
        for (int u = 1; u < NU; u++) if (unit_done[u] && dom_of(u) == d) c += 8'd1;
        cdl[d][0] <= c;
        for (int s = 1; s < SYNC; s++) cdl[d][s] <= cdl[d][s-1];
      end
      done_seen <= done_seen_now;

      if (ctrl_sig_due) ctrl_sig_pending <= 0;
      if (ctrl_exec) begin
        pc <= pc + 1;
        ctrl_next <= now + 1;
        if (fop < 8'h10) begin
          case (fop)
            OP_HALT: begin
              halted <= 1;
              cycles <= now;
            end
            OP_CTX_SET: ctx[reg_] <= value;
            OP_CTX_ADD: ctx[reg_] <= ctx[src] + value;
            OP_CTX_MUL: ctx[reg_] <= ctx[src] * value;
            OP_DVFS: begin
              dvfs_point[dom*8+:8] <= 8'(fld(rword, FW_POINT, FL_POINT, FB_POINT));
              trans_until[dom*64+:64] <= now + TRANS_CYCLES[dom*64+:64];
              ctrl_next <= now + TRANS_CYCLES[dom*64+:64];
            end
            default: ;
          endcase
          if (fld(rword, FW_SIGNAL0, FL_SIGNAL0, 5) != 0 || fld(rword, FW_SIGNAL1, FL_SIGNAL1, 5) != 0) begin
            ctrl_sig_pending <= 1;
            ctrl_sig_ids <= signal_ids(rword);
            ctrl_sig_tile <= 6'(fld(rword, FW_TILE, FL_TILE, FB_TILE));
            ctrl_sig_at <= fop == OP_DVFS ? now + TRANS_CYCLES[dom*64+:64] : now + 1;
          end
        end
      end
      // several pushes of one broadcast count once each
      if (ctrl_exec && fop >= 8'h10) begin
        dd = dispatched;
        for (int u = 1; u < NU; u++) if (push[u]) dd[dom_of(u)*64+:64] = dd[dom_of(u)*64+:64] + 64'd1;
        dispatched <= dd;
      end

      if (dma_start)
        for (int u = 1; u < FT; u++)
          if (start[u]) begin
            dma_unit <= 32'(u);
            dma_last <= 32'(u);
          end
    end


  // in-flight lists and bank holds, one block per unit
  assign hold_f[0+:HB] = '0;
  assign hold_tm_f[0+:TILES] = '0;
  assign fl_banks0[0+:2*MB] = '0;
  assign fl_sig0[0+:10] = '0;
  assign fl_tile0[0+:6] = '0;
  assign fl_idx0[0+:32] = '0;
  for (genvar u = 1; u < NU; u++) begin : g_flight
    // a circular buffer of CAP entries, oldest at hd
    localparam int CAP = cap_of(u);
    localparam int CIW = CAP > 1 ? $clog2(CAP) : 1;
    logic [2*MB-1:0] fl_banks[CAP];
    logic [9:0] fl_sig[CAP];
    logic [5:0] fl_tile[CAP];
    logic [31:0] fl_idx[CAP];
    logic [FLW-1:0] fl_n;
    logic [CIW-1:0] hd;
    logic [HB-1:0] hold;
    logic [TILES-1:0] hold_tm;
    wire [255:0] head = q_head[u*256+:256];
    // the slot after the youngest (a pop this cycle frees the oldest, not this one)
    wire [CIW:0] tl_sum = (CIW+1)'(hd) + (CIW+1)'(fl_n);
    wire [CIW-1:0] tl = CIW'(tl_sum >= (CIW+1)'(CAP) ? tl_sum - (CIW+1)'(CAP) : tl_sum);
    always_ff @(posedge clk or negedge rst_n)
      if (!rst_n) begin
        fl_n <= '0;
        hd <= '0;
        hold <= '0;
        hold_tm <= '0;
      end else begin
        logic [FLW-1:0] n;
        logic [HB-1:0] h;
        logic [2*MB-1:0] sb;
        n = fl_n;
        h = hold;
        sb = banks_of(head);
        if (unit_done[u]) begin
          hd <= 32'(hd) + 1 >= CAP ? '0 : hd + 1'b1;
          n = n - 1'b1;
          for (int i = 0; i < 2 * MB; i++) if (rel_mask[u][i]) h[4*i+:4] = h[4*i+:4] - 4'd1;
        end
        if (start[u]) begin
          fl_banks[tl] <= sb;
          fl_sig[tl] <= signal_ids(head);
          fl_tile[tl] <= 6'(fld(head, FW_TILE, FL_TILE, FB_TILE));
          fl_idx[tl] <= q_head_idx[u*32+:32];
          n = n + 1'b1;
          for (int i = 0; i < 2 * MB; i++) if (sb[i]) h[4*i+:4] = h[4*i+:4] + 4'd1;
          hold_tm <= u < FT ? tmask_of(head) : TILES'(1) << tile_of(u);
        end
        fl_n <= n;
        hold <= h;
      end
    assign hold_f[u*HB+:HB] = hold;
    assign hold_tm_f[u*TILES+:TILES] = hold_tm;
    assign fl_banks0[u*2*MB+:2*MB] = fl_banks[hd];
    assign fl_sig0[u*10+:10] = fl_sig[hd];
    assign fl_tile0[u*6+:6] = fl_tile[hd];
    assign fl_idx0[u*32+:32] = fl_idx[hd];
  end

  always_comb
    for (int u = 0; u < NU; u++) begin
      retire_valid[u] = u != 0 && unit_done[u];
      retire_index[u*32+:32] = fl_idx0[u*32+:32];
    end
endmodule
