// The DMA engine: one transfer at a time, split into requests of at most
// DMA_BURST bytes that never cross a burst-aligned DRAM boundary, with up to
// DMA_OUT requests in flight (docs/timing.md, DMA engine).
//   load:  request i issues when its slot is free (one per cycle); responses
//          arrive in order and are written to the SRAM one line per cycle;
//          a slot frees when its data is written; done when the last is.
//   store: request i's lines are read one per cycle once its slot is free;
//          it issues the cycle after its last line; a slot frees at its write
//          acknowledgement; done at the last acknowledgement.
module cs_dma
  import cs_cfg_pkg::*;
  import cs_isa_pkg::*;
(
    input  logic clk,
    input  logic rst_n,
    input  logic start,
    input  logic [255:0] word,       // resolved; tile = target tile or 63 (all)
    output logic free,
    output logic done,
    // DRAM port
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
    // SRAM: one write port per tile and space, one read port (tile selected)
    output logic [TILES-1:0] sp_we,
    output logic [SP_LAW-1:0] sp_wa,
    output logic [SP_LB-1:0] sp_wm,
    output logic [SP_LB*8-1:0] sp_wd,
    output logic [TILES-1:0] acc_we,
    output logic [ACC_LAW-1:0] acc_wa,
    output logic [ACC_LB-1:0] acc_wm,
    output logic [ACC_LB*8-1:0] acc_wd,
    output logic [7:0] rd_tile,
    output logic [SP_LAW-1:0] sp_ra,
    input  logic [SP_LB*8-1:0] sp_rd,
    output logic [ACC_LAW-1:0] acc_ra,
    input  logic [ACC_LB*8-1:0] acc_rd
);
  localparam int OW = $clog2(DMA_OUT) + 1;

  logic busy;
  logic [255:0] w;
  wire [255:0] cw = start ? word : w;
  wire is_store = fld(cw, FW_OPCODE, FL_OPCODE, FB_OPCODE) == OP_STORE;
  wire space = fld(cw, FW_SPACE, FL_SPACE, FB_SPACE) != 0;
  wire [63:0] rows = fld(cw, FW_ROWS, FL_ROWS, FB_ROWS);
  wire [63:0] rbytes = fld(cw, FW_BYTES, FL_BYTES, FB_BYTES);
  wire [7:0] tile = 8'(fld(cw, FW_TILE, FL_TILE, FB_TILE));
  wire [31:0] lb = space ? ACC_LB : SP_LB;

  // ---- request generator: (row, offset) of the next request
  logic [63:0] g_row, g_off;
  wire [63:0] cur_row = start ? 0 : g_row;
  wire [63:0] cur_off = start ? 0 : g_off;
  wire gen_left = cur_row < rows;
  wire [63:0] g_d = fld(cw, FW_DRAM, FL_DRAM, FB_DRAM) + cur_row * fld(cw, FW_DSTRIDE, FL_DSTRIDE, FB_DSTRIDE) + cur_off;
  wire [63:0] g_s = fld(cw, FW_SRAM, FL_SRAM, FB_SRAM) + cur_row * fld(cw, FW_SSTRIDE, FL_SSTRIDE, FB_SSTRIDE) + cur_off;
  wire [63:0] room = 64'(DMA_BURST) - (g_d % DMA_BURST);
  wire [63:0] g_n = room < rbytes - cur_off ? room : rbytes - cur_off;
  wire [63:0] g_lines = (g_s + g_n - 1) / lb - g_s / lb + 1;

  logic [31:0] n_issued;  // requests issued of this transfer
  wire [31:0] cur_i = start ? 0 : n_issued;
  logic [DMA_OUT-1:0] slot_busy;
  wire [$clog2(DMA_OUT)-1:0] slot = ($clog2(DMA_OUT))'(cur_i % DMA_OUT);
  wire slot_free = !slot_busy[slot] || wack[slot];  // an acknowledgement frees its slot this cycle, for a load too

  // ---- store reader: lines of the next request
  logic rd_active;        // reading the lines of request cur_i
  logic [63:0] rd_k;      // lines read so far
  logic [DMA_BURST-1:0][7:0] rd_buf;
  wire rd_go = (start || busy) && is_store && gen_left && !rd_active && slot_free;
  wire reading = (rd_active || rd_go);
  wire [63:0] rk = rd_active ? rd_k : 0;
  wire [63:0] rline = g_s / lb + rk;
  assign rd_tile = tile;
  assign sp_ra = SP_LAW'(rline);
  assign acc_ra = ACC_LAW'(rline);
  logic [DMA_BURST-1:0][7:0] rd_next;
  always_comb begin
    rd_next = rd_buf;
    for (int b = 0; b < LB_MAX; b++) begin
      logic [63:0] ga = rline * lb + 64'(b);
      if (64'(b) < 64'(lb) && ga >= g_s && ga < g_s + g_n)
        rd_next[ga-g_s] = space ? acc_rd[b*8+:8] : sp_rd[b*8+:8];
    end
  end
  wire rd_last = reading && rk + 1 == g_lines;

  // ---- issue
  logic st_pending;  // a store request whose lines are all read waits to issue
  logic [63:0] st_d, st_n;
  always_comb begin
    req_valid = 0;
    req_write = 0;
    req_addr = '0;
    req_bytes = '0;
    req_tag = 8'(cur_i % DMA_OUT);
    req_wdata = rd_buf;
    if (!is_store) begin
      if ((start || busy) && gen_left && slot_free) begin
        req_valid = 1;
        req_addr = 48'(g_d);
        req_bytes = 13'(g_n);
      end
    end else if (st_pending) begin
      req_valid = 1;
      req_write = 1;
      req_addr = 48'(st_d);
      req_bytes = 13'(st_n);
      req_tag = 8'((n_issued - 1) % DMA_OUT);
    end
  end

  // ---- load writer: responses in order, one line per cycle
  localparam int SW = $clog2(DMA_OUT) > 0 ? $clog2(DMA_OUT) : 1;
  logic [63:0] mq_s[DMA_OUT], mq_n[DMA_OUT];  // sram address, bytes of issued loads, in order
  logic [OW-1:0] mq_head, mq_cnt;
  wire [SW-1:0] hd = SW'(mq_head % DMA_OUT);
  wire [63:0] hs = mq_s[hd], hn = mq_n[hd];
  wire [63:0] h_lines = (hs + hn - 1) / lb - hs / lb + 1;
  logic wr_active;  // writing lines of an accepted response after its first cycle
  logic [63:0] wr_k, wr_s, wr_n;
  logic [SW-1:0] wr_slot;
  logic [DMA_BURST-1:0][7:0] wr_data;
  wire [63:0] wr_lines = (wr_s + wr_n - 1) / lb - wr_s / lb + 1;
  assign resp_ready = !wr_active;
  wire accept = resp_valid && resp_ready && (busy || start) && !is_store && mq_cnt != 0;
  wire writing = accept || wr_active;
  wire [63:0] ws = accept ? hs : wr_s;
  wire [63:0] wn = accept ? hn : wr_n;
  wire [63:0] wline = ws / lb + (accept ? 0 : wr_k);
  always_comb begin
    logic [LB_MAX*8-1:0] d;
    logic [LB_MAX-1:0] m;
    d = '0;
    m = '0;
    for (int b = 0; b < LB_MAX; b++) begin
      logic [63:0] ga = wline * lb + 64'(b);
      if (64'(b) < 64'(lb) && ga >= ws && ga < ws + wn) begin
        m[b] = 1;
        d[b*8+:8] = accept ? resp_data[(ga-ws)*8+:8] : wr_data[ga-ws];
      end
    end
    sp_wa = SP_LAW'(wline);
    acc_wa = ACC_LAW'(wline);
    sp_wd = d[SP_LB*8-1:0];
    acc_wd = d[ACC_LB*8-1:0];
    sp_wm = m[SP_LB-1:0];
    acc_wm = m[ACC_LB-1:0];
    for (int t = 0; t < TILES; t++) begin
      logic hit = tile == 63 || tile == 8'(t);
      sp_we[t] = writing && !space && hit;
      acc_we[t] = writing && space && hit;
    end
  end

  // ---- state
  logic [OW-1:0] st_out;  // store requests issued and not yet acknowledged
  wire [OW-1:0] acks_now = OW'($countones(wack & slot_busy));
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      busy <= 0;
      slot_busy <= '0;
      n_issued <= 0;
      g_row <= 0;
      g_off <= 0;
      rd_active <= 0;
      st_pending <= 0;
      mq_head <= 0;
      mq_cnt <= 0;
      wr_active <= 0;
      st_out <= 0;
    end else begin
      logic [DMA_OUT-1:0] sb;
      logic advance;
      logic [OW-1:0] cnt;
      sb = slot_busy & ~wack;  // store acknowledgements free their slots
      advance = 0;
      cnt = mq_cnt;
      if (start) begin
        w <= word;
        mq_head <= 0;
      end
      busy <= start || (busy && !done);
      // load: issue
      if (!is_store && req_valid) begin
        sb[slot] = 1;
        mq_s[SW'((cur_i) % DMA_OUT)] <= g_s;
        mq_n[SW'((cur_i) % DMA_OUT)] <= g_n;
        cnt = cnt + 1;
        advance = 1;
      end
      // load: write
      if (accept) begin
        wr_s <= hs;
        wr_n <= hn;
        wr_slot <= hd;
        wr_data <= resp_data;
        mq_head <= mq_head + 1;
        cnt = cnt - 1;
        if (h_lines == 1) begin
          wr_active <= 0;
          sb[hd] = 0;
        end else begin
          wr_active <= 1;
          wr_k <= 1;
        end
      end else if (wr_active) begin
        if (wr_k + 1 == wr_lines) begin
          wr_active <= 0;
          sb[wr_slot] = 0;
        end else wr_k <= wr_k + 1;
      end
      mq_cnt <= cnt;
      // store: read the lines of the next request, issue the cycle after
      if (st_pending) begin
        st_pending <= 0;
        sb[SW'((n_issued - 1) % DMA_OUT)] = 1;
      end
      if (is_store && reading) begin
        rd_buf <= rd_next;
        if (rd_last) begin
          rd_active <= 0;
          st_pending <= 1;
          st_d <= g_d;
          st_n <= g_n;
          advance = 1;
        end else begin
          rd_active <= 1;
          rd_k <= rk + 1;
        end
      end
      st_out <= st_out + (st_pending ? 1 : 0) - acks_now;
      if (advance) begin
        n_issued <= cur_i + 1;
        if (cur_off + g_n >= rbytes) begin
          g_row <= cur_row + 1;
          g_off <= 0;
        end else begin
          g_row <= cur_row;
          g_off <= cur_off + g_n;
        end
      end else if (start) begin
        n_issued <= 0;
        g_row <= 0;
        g_off <= 0;
      end
      slot_busy <= sb;
    end

  // ---- completion: load when the last line is written (the cycle after),
  // store at the last acknowledgement.  Only the current transfer's
  // registered state decides (never `start`), so `free` has no loop.
  wire w_store = fld(w, FW_OPCODE, FL_OPCODE, FB_OPCODE) == OP_STORE;
  wire w_issued = g_row >= fld(w, FW_ROWS, FL_ROWS, FB_ROWS) && !rd_active && !st_pending;
  assign done = busy && (w_store ? w_issued && st_out != 0 && st_out == acks_now
                                 : w_issued && mq_cnt == 0 && !wr_active);
  assign free = !busy || done;
endmodule
