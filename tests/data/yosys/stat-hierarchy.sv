// The design tests/data/yosys/stat-hierarchy.txt is the yosys 0.23 `stat -liberty osu018` of:
//   read_verilog -sv -lib (cs_sram_bank below); read_verilog -sv (the rest); hierarchy -check -top cs_top;
//   synth -top cs_top; dfflibmap -liberty L; abc -liberty L; opt_clean; stat -liberty L
// (cs_sram_bank is the black box: only its declaration is read with -lib.)
module cs_sram_bank #(parameter int W = 8) (input logic clk, input logic [W-1:0] d, output logic [W-1:0] q);
endmodule
module cs_sram #(parameter int W = 4) (input logic clk, input logic rst_n, input logic [W-1:0] a, output logic [W-1:0] q);
  logic [W-1:0] b;
  cs_sram_bank #(.W(W)) u_bank(.clk, .d(a), .q(b));
  always_ff @(posedge clk or negedge rst_n) if (!rst_n) q <= '0; else q <= q + b;
endmodule
module cs_dma (input logic clk, input logic [7:0] a, output logic [7:0] q);
  always_ff @(posedge clk) q <= a ^ {a[6:0], a[7]};
endmodule
module cs_top(input logic clk, input logic rst_n, input logic [7:0] a, output logic [7:0] q, output logic [3:0] r, output logic [7:0] s);
  cs_sram #(.W(8)) u0(.clk, .rst_n, .a, .q);
  cs_sram #(.W(4)) u1(.clk, .rst_n, .a(q[3:0]), .q(r));
  cs_dma u2(.clk, .a(q), .q(s));
endmodule
