; examples/gemm.s -- a tiled, double-buffered GEMM on clone-28nm (2 tiles, 16x16 MXUs)
;
;   C[32 x 128] (int32) = A[32 x 64] (int8) x W[64 x 128] (int8)
;
; DRAM layout
;   0x40000000  A, 32 rows x 64 bytes
;   0x00000000  W as 8 column blocks of 16 columns; each block is 4 packed
;               16x16 weight tiles (k = 0..3), 1 KiB per block
;   0x80000000  C, block after block: 32 rows x 16 int32 (2 KiB per block)
;
; Column blocks alternate between the two tiles.  In each tile, weights go
; to scratchpad bank 0 or 1 (double buffer) while the MXU works on the other;
; results accumulate in accumulator bank 0 or 1 while a store drains the
; other.  Tile-local semaphores:
;   s1/s2 weight buffer 0/1 full      s3/s4 weight buffer 0/1 free
;   s5/s6 result buffer 0/1 ready     s7/s8 result buffer 0/1 free
;   s9    activations loaded
;
; Run it (random A and W, results written to c.bin):
;   clonesim sim examples/gemm.s --dram-random 0x40000000:2048:1 \
;       --dram-random 0x0:8192:2 --dump-dram 0x80000000:16384:c.bin
load tile=all dram=0x40000000 sram=0x10000 rows=32 bytes=64 dstride=64 sstride=64 signal=s9
load tile=0 dram=0x0 sram=0x0 bytes=1024 signal=s1
matmul tile=0 act=0x10000 wgt=0x0 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s1,s9
matmul tile=0 act=0x10010 wgt=0x100 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10020 wgt=0x200 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10030 wgt=0x300 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s3,s5
store tile=0 dram=0x80000000 sram=0x0 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s5 signal=s7
load tile=1 dram=0x400 sram=0x0 bytes=1024 signal=s1
matmul tile=1 act=0x10000 wgt=0x0 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s1,s9
matmul tile=1 act=0x10010 wgt=0x100 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10020 wgt=0x200 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10030 wgt=0x300 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s3,s5
store tile=1 dram=0x80000800 sram=0x0 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s5 signal=s7
load tile=0 dram=0x800 sram=0x8000 bytes=1024 signal=s2
matmul tile=0 act=0x10000 wgt=0x8000 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s2
matmul tile=0 act=0x10010 wgt=0x8100 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10020 wgt=0x8200 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10030 wgt=0x8300 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s4,s6
store tile=0 dram=0x80001000 sram=0x4000 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s6 signal=s8
load tile=1 dram=0xc00 sram=0x8000 bytes=1024 signal=s2
matmul tile=1 act=0x10000 wgt=0x8000 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s2
matmul tile=1 act=0x10010 wgt=0x8100 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10020 wgt=0x8200 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10030 wgt=0x8300 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s4,s6
store tile=1 dram=0x80001800 sram=0x4000 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s6 signal=s8
load tile=0 dram=0x1000 sram=0x0 bytes=1024 signal=s1 wait=s3
matmul tile=0 act=0x10000 wgt=0x0 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s1,s7
matmul tile=0 act=0x10010 wgt=0x100 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10020 wgt=0x200 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10030 wgt=0x300 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s3,s5
store tile=0 dram=0x80002000 sram=0x0 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s5 signal=s7
load tile=1 dram=0x1400 sram=0x0 bytes=1024 signal=s1 wait=s3
matmul tile=1 act=0x10000 wgt=0x0 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s1,s7
matmul tile=1 act=0x10010 wgt=0x100 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10020 wgt=0x200 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10030 wgt=0x300 acc=0x0 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s3,s5
store tile=1 dram=0x80002800 sram=0x0 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s5 signal=s7
load tile=0 dram=0x1800 sram=0x8000 bytes=1024 signal=s2 wait=s4
matmul tile=0 act=0x10000 wgt=0x8000 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s2,s8
matmul tile=0 act=0x10010 wgt=0x8100 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10020 wgt=0x8200 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=0 act=0x10030 wgt=0x8300 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s4,s6
store tile=0 dram=0x80003000 sram=0x4000 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s6 signal=s8
load tile=1 dram=0x1c00 sram=0x8000 bytes=1024 signal=s2 wait=s4
matmul tile=1 act=0x10000 wgt=0x8000 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=0 astride=64 cstride=64 wait=s2,s8
matmul tile=1 act=0x10010 wgt=0x8100 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10020 wgt=0x8200 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64
matmul tile=1 act=0x10030 wgt=0x8300 acc=0x4000 m=32 k=16 n=16 wtype=int8 accum=1 astride=64 cstride=64 signal=s4,s6
store tile=1 dram=0x80003800 sram=0x4000 space=acc rows=32 bytes=64 dstride=64 sstride=64 wait=s6 signal=s8
halt
