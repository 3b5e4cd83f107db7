; examples/rmsnorm.s -- RMSNorm of one 64-element int8 row on clone-28nm:
;   y = x / rms(x) * gamma,   rms(x) = sqrt(mean(x^2))
; with the integer algorithms of docs/numerics.md.  Scratchpad banks are
; 32 KiB (0x8000), accumulator banks 16 KiB (0x4000).
;
; DRAM: x at 0x0 (64 int8), gamma at 0x100 (64 int8, scale 1/64),
;       y written to 0x1000 (64 int8, scale 1/32).
;   clonesim sim examples/rmsnorm.s --dram-random 0x0:64:7 \
;       --dram-random 0x100:64:8 --dump-dram 0x1000:64:y.bin
load dram=0x0   sram=0x0    bytes=64 signal=s1              ; x     -> sp bank 0
load dram=0x100 sram=0x8000 bytes=64 signal=s2              ; gamma -> sp bank 1
; x^2 into the accumulator (int32); a and b share bank 0: 2 reads per step
vmul    dst=0x0 dspace=acc a=0x0 b=0x0 bmode=vec len=64 wait=s1,s2
; sum of squares -> one int32 in accumulator bank 1
vredsum dst=0x4000 dspace=acc a=0x0 aspace=acc len=64
; mean = sum / 64 (rounding shift)
vshr    dst=0x4000 dspace=acc a=0x4000 aspace=acc len=1 shift=6
; r = floor(2^15 / sqrt(mean)): 1/rms in Q15
vrsqrt  dst=0x4040 dspace=acc a=0x4000 aspace=acc len=1 shift=15
; x * r (Q15), r read once as a scalar
vmul    dst=0x0 dspace=acc a=0x0 b=0x4040 bspace=acc bmode=scalar len=64
; * gamma (scale 1/64) and back to int8 at scale 1/32: shift 15 + 6 - 5 = 16
vmul    dst=0x100 a=0x0 aspace=acc b=0x8000 bmode=vec len=64 shift=16 signal=s3
store   dram=0x1000 sram=0x100 bytes=64 wait=s3
halt
