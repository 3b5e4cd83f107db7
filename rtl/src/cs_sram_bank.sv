// One SRAM bank: DEPTH lines of LB bytes.  This is the memory macro of the
// design; the module here is a behavioural model for simulation.  Synthesis
// black-boxes it (`read_verilog -lib cs_sram_bank.sv`); to tape out, replace
// it with the foundry macro (plus a port arbiter in front of it if the macro
// has fewer physical ports than NR + NW: the issue logic guarantees that at
// most `ports` units use a bank at a time, docs/timing.md).
//
// Interface (all vectors flat; port p's field is at [p*W +: W]):
//   parameter LB      line width in bytes: data buses of LB*8 bits, LB byte enables
//   parameter DEPTH   lines; AW = $clog2(DEPTH) address bits (DEPTH is a power of two)
//   parameter NR, NW  read ports, write ports
//   read port p:  raddr[p*AW +: AW]  ->  rdata[p*LB*8 +: LB*8]
//                 asynchronous read: the addressed line's current contents in the
//                 same cycle (a line written at this cycle's edge reads the old data)
//   write port p: we[p]               write enable
//                 waddr[p*AW +: AW]   line address
//                 wmask[p*LB +: LB]   byte mask, bit b enables byte b (data bits [8b+7:8b])
//                 wdata[p*LB*8 +: LB*8]
//                 written at the rising edge of clk, only the bytes whose mask bit is set.
//   Two write ports writing the same byte in one cycle: the higher port wins here
//   (a race-free program never does it).
// The contents start at zero (simulation only).
module cs_sram_bank #(
    parameter int LB = 16,
    parameter int DEPTH = 1024,
    parameter int NR = 1,
    parameter int NW = 1,
    localparam int AW = $clog2(DEPTH)
) (
    input  logic               clk,
    input  logic [NR*AW-1:0]   raddr,
    output logic [NR*LB*8-1:0] rdata,
    input  logic [NW-1:0]      we,
    input  logic [NW*AW-1:0]   waddr,
    input  logic [NW*LB-1:0]   wmask,
    input  logic [NW*LB*8-1:0] wdata
);
  logic [LB*8-1:0] mem[DEPTH];
  initial for (int i = 0; i < DEPTH; i++) mem[i] = '0;
  always_comb for (int p = 0; p < NR; p++) rdata[p*LB*8+:LB*8] = mem[raddr[p*AW+:AW]];
  // byte enables widened to bit enables
  logic [NW*LB*8-1:0] wbits;
  for (genvar i = 0; i < NW * LB; i++) begin : g_wbits
    assign wbits[i*8+:8] = {8{wmask[i]}};
  end
  // each written line takes the bytes of every port writing it this cycle
  // (ports in order; the issue logic never lets two ports write one byte)
  always_ff @(posedge clk)
    for (int p = 0; p < NW; p++)
      if (we[p]) begin
        logic [LB*8-1:0] line;
        line = mem[waddr[p*AW+:AW]];
        for (int q = 0; q < NW; q++)
          if (we[q] && waddr[q*AW+:AW] == waddr[p*AW+:AW])
            line = (line & ~wbits[q*LB*8+:LB*8]) | (wdata[q*LB*8+:LB*8] & wbits[q*LB*8+:LB*8]);
        mem[waddr[p*AW+:AW]] <= line;
      end
endmodule
