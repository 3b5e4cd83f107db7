// The DMA engine: one transfer at a time, split into requests of at most
// DMA_BURST bytes that never cross a burst-aligned DRAM boundary, with up to
// DMA_OUT requests in flight (docs/timing.md, DMA engine).
//   load:  request i issues when its slot is free (one per cycle); responses
//          arrive in order and are written to the SRAM one line per cycle;
//          a slot frees when its data is written; done when the last is.
//   store: request i's lines are read one per cycle once its slot is free;
//          it issues the cycle after its last line; a slot frees at its write
//          acknowledgement; done at the last acknowledgement.
//
// Hardware structure:
//   - transfer registers: the fields of the running instruction (w_*); in
//     the start cycle the same fields come straight from `word`.
//   - request generator: row counter, byte offset in the row and the DRAM /
//     SRAM addresses of the row's first byte, advanced by adders (no
//     multiplier): the next request starts at row base + offset and runs to
//     the burst boundary or the row end, whichever is first.
//   - slots: a ring of DMA_OUT request slots (busy bits) indexed by a
//     wrap-around counter; the slot number is the request's DRAM tag.
//   - load writer: a FIFO (one entry per slot) of the SRAM address and size
//     of each issued load; the response data is held in a register that
//     shifts down one line per written line, and each SRAM line is a funnel
//     shift of two consecutive line-sized chunks by the request's offset in
//     its first line.  Byte enables cut the first and last line.
//   - store reader: each line read from the SRAM is rotated by the request's
//     offset in its first line; then every byte of the burst buffer takes
//     its byte from a fixed position of the rotated line, enabled when the
//     line counter says that line holds it.
// Line sizes are powers of two, so every division by a line size is a shift,
// selected by the transfer's space (scratchpad or accumulator).
module cs_dma #(
`include "cs_cfg.svh"
) (
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
  `include "cs_isa.svh"

  // ---- widths
  localparam int SP_SH = $clog2(SP_LB), ACC_SH = $clog2(ACC_LB);  // log2 of the line bytes
  localparam int SPW = SP_LB * 8, ACCW = ACC_LB * 8;               // line bits
  localparam int B_SH = $clog2(DMA_BURST);
  localparam int LB_MIN = SP_LB < ACC_LB ? SP_LB : ACC_LB;
  localparam int LAWM = SP_LAW > ACC_LAW ? SP_LAW : ACC_LAW;      // line index of either space
  // line of a request relative to its first: a request touches at most
  // DMA_BURST / LB + 1 lines (two if a line is longer than the burst)
  localparam int KW = $clog2(DMA_BURST / LB_MIN + 2);
  localparam int SW = DMA_OUT > 1 ? $clog2(DMA_OUT) : 1;  // slot number
  localparam int OW = $clog2(DMA_OUT + 1);                // 0..DMA_OUT requests
  localparam int NBW = 13;                                 // request bytes 1..DMA_BURST (<= 4096)
  localparam int XW = NBW + 1;                             // line offset + request bytes
  localparam int DAW = FB_DRAM, SAW = FB_SRAM;             // DRAM (48) and SRAM (24) byte address

  // ---- the transfer: latched at start; in the start cycle taken from `word`
  logic busy;
  logic w_store, w_space;
  logic [FB_TILE-1:0] w_tile;
  logic [FB_ROWS-1:0] w_rows;
  logic [FB_BYTES-1:0] w_bytes;
  logic [FB_DSTRIDE-1:0] w_dstride;
  logic [FB_SSTRIDE-1:0] w_sstride;
  wire active = start || busy;
  wire is_store = start ? fld(word, FW_OPCODE, FL_OPCODE, FB_OPCODE) == 64'(OP_STORE) : w_store;
  wire space = start ? fld(word, FW_SPACE, FL_SPACE, FB_SPACE) != 0 : w_space;
  wire [FB_TILE-1:0] tile = start ? FB_TILE'(fld(word, FW_TILE, FL_TILE, FB_TILE)) : w_tile;
  wire [FB_ROWS-1:0] rows = start ? FB_ROWS'(fld(word, FW_ROWS, FL_ROWS, FB_ROWS)) : w_rows;
  wire [FB_BYTES-1:0] rbytes = start ? FB_BYTES'(fld(word, FW_BYTES, FL_BYTES, FB_BYTES)) : w_bytes;
  wire [FB_DSTRIDE-1:0] dstride = start ? FB_DSTRIDE'(fld(word, FW_DSTRIDE, FL_DSTRIDE, FB_DSTRIDE)) : w_dstride;
  wire [FB_SSTRIDE-1:0] sstride = start ? FB_SSTRIDE'(fld(word, FW_SSTRIDE, FL_SSTRIDE, FB_SSTRIDE)) : w_sstride;

  // ---- request generator: (row, offset) of the next request
  logic [FB_ROWS-1:0] g_row;
  logic [FB_BYTES-1:0] g_off;
  logic [DAW-1:0] g_drow;  // DRAM address of the row's first byte
  logic [SAW-1:0] g_srow;  // SRAM address of the row's first byte
  wire [FB_ROWS-1:0] cur_row = start ? '0 : g_row;
  wire [FB_BYTES-1:0] cur_off = start ? '0 : g_off;
  wire [DAW-1:0] cur_drow = start ? DAW'(fld(word, FW_DRAM, FL_DRAM, FB_DRAM)) : g_drow;
  wire [SAW-1:0] cur_srow = start ? SAW'(fld(word, FW_SRAM, FL_SRAM, FB_SRAM)) : g_srow;
  wire gen_left = cur_row < rows;
  wire [DAW-1:0] g_d = cur_drow + DAW'(cur_off);
  wire [SAW-1:0] g_s = cur_srow + SAW'(cur_off);
  wire [NBW-1:0] room = NBW'(DMA_BURST) - NBW'(g_d[B_SH-1:0]);  // bytes to the burst boundary
  wire [FB_BYTES-1:0] left = rbytes - cur_off;                    // bytes to the row end
  wire row_end = !(FB_BYTES'(room) < left);                       // the request ends its row
  wire [NBW-1:0] g_n = row_end ? NBW'(left) : room;
  // the request's first byte within its SRAM line and its last line (relative)
  wire [SP_SH-1:0] g_o_sp = g_s[SP_SH-1:0];
  wire [ACC_SH-1:0] g_o_acc = g_s[ACC_SH-1:0];
  wire [XW-1:0] g_e_sp = XW'(g_o_sp) + XW'(g_n) - 1;
  wire [XW-1:0] g_e_acc = XW'(g_o_acc) + XW'(g_n) - 1;
  wire [KW-1:0] g_lastk = space ? KW'(g_e_acc >> ACC_SH) : KW'(g_e_sp >> SP_SH);

  // ---- slots: request i uses slot i mod DMA_OUT
  logic [SW-1:0] i_slot;  // slot of the next request
  logic [DMA_OUT-1:0] slot_busy;
  wire [SW-1:0] slot = start ? '0 : i_slot;
  wire [SW-1:0] slot_next = slot == SW'(DMA_OUT - 1) ? '0 : slot + 1'b1;
  wire slot_free = !slot_busy[slot] || wack[slot];  // an acknowledgement frees its slot this cycle, for a load too

  // ---- store reader: lines of the next request, one per cycle
  logic rd_active;          // reading the lines of the request at `slot`
  logic [KW-1:0] rd_k;      // lines read so far
  logic [DMA_BURST*8-1:0] rd_buf;
  wire rd_go = active && is_store && gen_left && !rd_active && slot_free;
  wire reading = rd_active || rd_go;
  wire [KW-1:0] rk = rd_active ? rd_k : '0;
  wire [LAWM-1:0] rline = LAWM'(space ? g_s >> ACC_SH : g_s >> SP_SH) + LAWM'(rk);
  assign rd_tile = 8'(tile);
  assign sp_ra = SP_LAW'(rline);
  assign acc_ra = ACC_LAW'(rline);
  wire rd_last = reading && rk == g_lastk;
  // The line rotated right by the request's offset o: byte c of the rotated
  // line is request byte m*LB + c of chunk m, read from line m when
  // c + o < LB and from line m + 1 otherwise.
  wire [SPW-1:0] rot_sp = SPW'({sp_rd, sp_rd} >> {g_o_sp, 3'b000});
  wire [ACCW-1:0] rot_acc = ACCW'({acc_rd, acc_rd} >> {g_o_acc, 3'b000});
  logic [DMA_BURST-1:0] rd_en;  // burst-buffer bytes the current line holds
  always_comb
    for (int j = 0; j < DMA_BURST; j++)
      if (space)
        rd_en[j] = {1'b0, g_o_acc} < (ACC_SH + 1)'(ACC_LB - j % ACC_LB) ? rk == KW'(j / ACC_LB)
                                                                         : rk == KW'(j / ACC_LB + 1);
      else
        rd_en[j] = {1'b0, g_o_sp} < (SP_SH + 1)'(SP_LB - j % SP_LB) ? rk == KW'(j / SP_LB)
                                                                    : rk == KW'(j / SP_LB + 1);

  // ---- issue
  logic st_pending;  // a store request whose lines are all read waits to issue
  logic [DAW-1:0] st_d;
  logic [NBW-1:0] st_n;
  logic [SW-1:0] st_slot;
  always_comb begin
    req_valid = 0;
    req_write = 0;
    req_addr = '0;
    req_bytes = '0;
    req_tag = 8'(slot);
    req_wdata = rd_buf;
    if (!is_store) begin
      if (active && gen_left && slot_free) begin
        req_valid = 1;
        req_addr = g_d;
        req_bytes = g_n;
      end
    end else if (st_pending) begin
      req_valid = 1;
      req_write = 1;
      req_addr = st_d;
      req_bytes = st_n;
      req_tag = 8'(st_slot);
    end
  end
  wire ld_issue = !is_store && req_valid;
  wire advance = ld_issue || (is_store && rd_last);  // the generator moves to the next request

  // ---- load writer: responses in order, one line per cycle
  logic [SAW-1:0] mq_s[DMA_OUT];  // SRAM address and bytes of the issued loads, by slot
  logic [NBW-1:0] mq_n[DMA_OUT];
  logic [SW-1:0] mq_head;         // slot of the oldest unwritten load
  logic [OW-1:0] mq_cnt;
  wire [SW-1:0] hd = mq_head;
  wire [SAW-1:0] hs = mq_s[hd];
  wire [NBW-1:0] hn = mq_n[hd];
  logic wr_active;  // writing lines of an accepted response after its first cycle
  logic [KW-1:0] wr_k;
  logic [SAW-1:0] wr_s;
  logic [NBW-1:0] wr_n;
  logic [SW-1:0] wr_slot;
  logic [DMA_BURST*8-1:0] wr_data;  // the response, shifted down one line per line written after the first
  assign resp_ready = !wr_active;
  wire accept = resp_valid && resp_ready && active && !is_store && mq_cnt != 0;
  wire writing = accept || wr_active;
  wire [SAW-1:0] ws = accept ? hs : wr_s;
  wire [NBW-1:0] wn = accept ? hn : wr_n;
  wire [KW-1:0] wk = accept ? '0 : wr_k;  // line of the response being written
  wire [LAWM-1:0] wline = LAWM'(space ? ws >> ACC_SH : ws >> SP_SH) + LAWM'(wk);
  wire [SP_SH-1:0] w_o_sp = ws[SP_SH-1:0];
  wire [ACC_SH-1:0] w_o_acc = ws[ACC_SH-1:0];
  wire [XW-1:0] w_e_sp = XW'(w_o_sp) + XW'(wn) - 1;    // last byte, from the first line's start
  wire [XW-1:0] w_e_acc = XW'(w_o_acc) + XW'(wn) - 1;
  wire [KW-1:0] w_lastk = space ? KW'(w_e_acc >> ACC_SH) : KW'(w_e_sp >> SP_SH);
  wire w_first = wk == '0;
  wire w_last = wk == w_lastk;
  // Line wk holds response bytes (wk-1)*LB + o .. wk*LB + o - 1: the chunk
  // before (`prev`, low byte 0 of the shift register) and the current one
  // (`cur`: from the response itself in the accept cycle, then byte LB of the
  // shift register), funnel-shifted by the offset o.
  logic [SPW-1:0] prev_sp, next_sp;     // shift register chunks 0 and 1
  logic [ACCW-1:0] prev_acc, next_acc;
  if (2 * SP_LB <= DMA_BURST) begin : g_sp_chunks
    assign prev_sp = wr_data[0+:SPW];
    assign next_sp = wr_data[SPW+:SPW];
  end else begin : g_sp_chunk  // a line holds the whole burst
    assign prev_sp = SPW'(wr_data);
    assign next_sp = '0;
  end
  if (2 * ACC_LB <= DMA_BURST) begin : g_acc_chunks
    assign prev_acc = wr_data[0+:ACCW];
    assign next_acc = wr_data[ACCW+:ACCW];
  end else begin : g_acc_chunk
    assign prev_acc = ACCW'(wr_data);
    assign next_acc = '0;
  end
  wire [SPW-1:0] cur_sp = accept ? SPW'(resp_data) : next_sp;
  wire [ACCW-1:0] cur_acc = accept ? ACCW'(resp_data) : next_acc;
  assign sp_wd = SPW'(({cur_sp, prev_sp} << {w_o_sp, 3'b000}) >> SPW);
  assign acc_wd = ACCW'(({cur_acc, prev_acc} << {w_o_acc, 3'b000}) >> ACCW);
  always_comb begin
    for (int b = 0; b < SP_LB; b++)
      sp_wm[b] = (!w_first || SP_SH'(b) >= w_o_sp) && (!w_last || SP_SH'(b) <= w_e_sp[SP_SH-1:0]);
    for (int b = 0; b < ACC_LB; b++)
      acc_wm[b] = (!w_first || ACC_SH'(b) >= w_o_acc) && (!w_last || ACC_SH'(b) <= w_e_acc[ACC_SH-1:0]);
  end
  assign sp_wa = SP_LAW'(wline);
  assign acc_wa = ACC_LAW'(wline);
  wire [TILES-1:0] hit;  // target tiles (63: all)
  for (genvar t = 0; t < TILES; t++) begin : g_hit
    assign hit[t] = tile == FB_TILE'(63) || tile == FB_TILE'(t);
  end
  assign sp_we = writing && !space ? hit : '0;
  assign acc_we = writing && space ? hit : '0;

  // ---- state
  logic [OW-1:0] st_out;  // store requests issued and not yet acknowledged
  wire [OW-1:0] acks_now = OW'($countones(wack & slot_busy));
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      busy <= 0;
      slot_busy <= '0;
      i_slot <= '0;
      g_row <= '0;
      g_off <= '0;
      rd_active <= 0;
      st_pending <= 0;
      mq_head <= '0;
      mq_cnt <= '0;
      wr_active <= 0;
      st_out <= '0;
    end else begin
      logic [DMA_OUT-1:0] sb;
      logic [OW-1:0] cnt;
      sb = slot_busy & ~wack;  // store acknowledgements free their slots
      cnt = mq_cnt;
      if (start) mq_head <= '0;
      busy <= start || (busy && !done);
      // load: issue
      if (ld_issue) begin
        sb[slot] = 1;
        cnt = cnt + 1'b1;
      end
      // load: write; the slot frees with the last line
      if (accept) begin
        mq_head <= hd == SW'(DMA_OUT - 1) ? '0 : hd + 1'b1;
        cnt = cnt - 1'b1;
      end
      if (writing) begin
        wr_active <= !w_last;
        if (w_last) sb[accept ? hd : wr_slot] = 0;
      end
      mq_cnt <= cnt;
      // store: read the lines of the next request, issue the cycle after
      if (st_pending) begin
        st_pending <= 0;
        sb[st_slot] = 1;
      end
      if (is_store && reading) begin
        rd_active <= !rd_last;
        if (rd_last) st_pending <= 1;
      end
      st_out <= st_out + OW'(st_pending) - acks_now;
      if (advance) begin
        i_slot <= slot_next;
        if (row_end) begin
          g_row <= cur_row + 1'b1;
          g_off <= '0;
        end else begin
          g_row <= cur_row;
          g_off <= cur_off + FB_BYTES'(g_n);
        end
      end else if (start) begin
        i_slot <= '0;
        g_row <= '0;
        g_off <= '0;
      end
      slot_busy <= sb;
    end

  // Data path registers (no reset: each is written before it is used).
  always_ff @(posedge clk) begin
    if (start) begin
      w_store <= is_store;
      w_space <= space;
      w_tile <= tile;
      w_rows <= rows;
      w_bytes <= rbytes;
      w_dstride <= dstride;
      w_sstride <= sstride;
    end
    // row base addresses
    if (advance && row_end) begin
      g_drow <= cur_drow + DAW'(dstride);
      g_srow <= cur_srow + SAW'(sstride);
    end else if (start) begin
      g_drow <= cur_drow;
      g_srow <= cur_srow;
    end
    // load: remember the issued request; take a response, then shift it down a line per line
    if (ld_issue) begin
      mq_s[slot] <= g_s;
      mq_n[slot] <= g_n;
    end
    if (accept) begin
      wr_s <= hs;
      wr_n <= hn;
      wr_slot <= hd;
      wr_data <= resp_data;
    end else if (wr_active) wr_data <= space ? wr_data >> ACCW : wr_data >> SPW;
    if (writing) wr_k <= wk + 1'b1;
    // store: collect the lines into the burst buffer
    if (is_store && reading) begin
      rd_k <= rk + 1'b1;
      for (int j = 0; j < DMA_BURST; j++)
        if (rd_en[j]) rd_buf[j*8+:8] <= space ? rot_acc[(j%ACC_LB)*8+:8] : rot_sp[(j%SP_LB)*8+:8];
      if (rd_last) begin
        st_d <= g_d;
        st_n <= g_n;
        st_slot <= slot;
      end
    end
  end

  // ---- completion: load when the last line is written (the cycle after),
  // store at the last acknowledgement.  Only the current transfer's
  // registered state decides (never `start`), so `free` has no loop.
  wire w_issued = g_row >= w_rows && !rd_active && !st_pending;
  assign done = busy && (w_store ? w_issued && st_out != 0 && st_out == acks_now
                                 : w_issued && mq_cnt == 0 && !wr_active);
  assign free = !busy || done;
endmodule
