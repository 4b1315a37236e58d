# plots.gp — `make plots`: the CSV files of bench/engine and bench/checker drawn as SVG charts.
# Usage: gnuplot -e "dir='build/plots'" bench/plots.gp
# Reads dir/engine.csv and dir/checker.csv; writes dir/engine-throughput.svg (invalidations
# per virtual second by CPU count: the scaling chart), dir/engine-latency.svg (mean virtual
# time of a submit call by CPU count) and dir/checker-throughput.svg (checker executions per
# second by driver, against the empty-execution baseline of the same run).
if (!exists("dir")) dir = "build/plots"
set datafile separator ","
set terminal svg size 800,480 dynamic enhanced font "sans,12" background rgb "white"
set key top left
set grid

set output dir."/engine-throughput.svg"
set title "Invalidations per virtual second: qinval engine vs step1-nowait"
set xlabel "CPUs submitting"
set ylabel "invalidations / s (virtual)"
set logscale x 2
set logscale y 10
plot dir."/engine.csv" using (strcol(1) eq "iotlb" ? $2 : NaN):3 with linespoints lw 2 title "qinval, IOTLB", \
     ''                using (strcol(1) eq "iotlb" ? $2 : NaN):4 with linespoints lw 2 title "step1-nowait, IOTLB", \
     ''                using (strcol(1) eq "iotlb+devtlb" ? $2 : NaN):3 with linespoints lw 2 dt 2 title "qinval, IOTLB + device-TLB", \
     ''                using (strcol(1) eq "iotlb+devtlb" ? $2 : NaN):4 with linespoints lw 2 dt 2 title "step1-nowait, IOTLB + device-TLB"

set output dir."/engine-latency.svg"
set title "Mean latency of one submit call (virtual time)"
set ylabel "ns per call"
unset logscale y
plot dir."/engine.csv" using (strcol(1) eq "iotlb" ? $2 : NaN):5 with linespoints lw 2 title "qinval, IOTLB", \
     ''                using (strcol(1) eq "iotlb" ? $2 : NaN):6 with linespoints lw 2 title "step1-nowait, IOTLB", \
     ''                using (strcol(1) eq "iotlb+devtlb" ? $2 : NaN):5 with linespoints lw 2 dt 2 title "qinval, IOTLB + device-TLB", \
     ''                using (strcol(1) eq "iotlb+devtlb" ? $2 : NaN):6 with linespoints lw 2 dt 2 title "step1-nowait, IOTLB + device-TLB"

set output dir."/checker-throughput.svg"
set key outside bottom center horizontal
set title "Checker executions per second (real time), smoke scenario"
unset logscale x
set xlabel "driver under test"
set ylabel "executions / s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set xtics rotate by -20
set datafile columnheaders
plot dir."/checker.csv" using 2:xtic(1) title "smoke", \
     ''                 using 3 title "smoke, rounds=3", \
     ''                 using 4 title "empty execution (baseline, same run)"
