// Issue 13 prototype: oneDNN (Debian libdnnl-dev 2.6) 3x3 convolutions, NHWC f32, stride 1, pad 1,
// on BigGAN-deep-128's 3x3 shapes (the bottleneck width m = in/4 at each resolution), batch 1
// and 8; also asks for the Winograd algorithm, which oneDNN 2.6 offers on AVX-512 only and only on
// its blocked layout (nChw16c: asked for as `any`; with NHWC it reports no implementation).
// Prints the median of 8 runs, effective GFLOP/s (2 x 9 x C x O x H x W per image), the
// implementation oneDNN picked and, for Winograd, its scratchpad and weights sizes. Compare with
// `biggan-bench --model deep-128 --batch 1 --profile` ("conv3x3: GEMM" GFLOP/s).
//
//   apt-get install -y libdnnl-dev
//   g++ -O2 -o /tmp/onednn_conv scripts/prototypes/onednn_conv.cpp -ldnnl && OMP_NUM_THREADS=2 /tmp/onednn_conv
#include <oneapi/dnnl/dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
using namespace dnnl;
int main(int argc, char** argv) {
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    struct Shape { int n, c, o, h; bool winograd; };
    std::vector<Shape> shapes = {{1,512,512,8,false},{1,512,512,16,false},{1,256,256,32,false},{1,128,128,64,false},{1,64,64,128,false},
                                 {8,512,512,16,false},{8,128,128,64,false},
                                 {1,512,512,16,true},{1,256,256,32,true},{1,128,128,64,true},{1,64,64,128,true}};
    for (auto sh : shapes) {
        memory::dims src = {sh.n, sh.c, sh.h, sh.h}, wei = {sh.o, sh.c, 3, 3}, bia = {sh.o}, dst = {sh.n, sh.o, sh.h, sh.h};
        auto act = sh.winograd ? memory::format_tag::any : memory::format_tag::nhwc;
        auto src_md = memory::desc(src, memory::data_type::f32, act);
        auto dst_md = memory::desc(dst, memory::data_type::f32, act);
        auto wei_any = memory::desc(wei, memory::data_type::f32, memory::format_tag::any);
        auto bia_md = memory::desc(bia, memory::data_type::f32, memory::format_tag::a);
        try {
            auto d = convolution_forward::desc(prop_kind::forward_inference,
                sh.winograd ? algorithm::convolution_winograd : algorithm::convolution_direct,
                src_md, wei_any, bia_md, dst_md, {1,1}, {1,1}, {1,1});
            primitive_attr attr;
            attr.set_scratchpad_mode(scratchpad_mode::user);   // as the engine does: the size is then known
            auto pd = convolution_forward::primitive_desc(d, attr, eng);
            memory srcm(pd.src_desc(), eng), dstm(pd.dst_desc(), eng), weim(pd.weights_desc(), eng), biam(bia_md, eng);
            memory scratch(pd.scratchpad_desc(), eng);
            std::fill((float*)srcm.get_data_handle(), (float*)srcm.get_data_handle() + sh.n*sh.c*sh.h*sh.h, 0.5f);
            auto conv = convolution_forward(pd);
            std::vector<double> t;
            for (int i = 0; i < 8; i++) {
                auto a = std::chrono::steady_clock::now();
                conv.execute(s, {{DNNL_ARG_SRC, srcm}, {DNNL_ARG_WEIGHTS, weim}, {DNNL_ARG_BIAS, biam}, {DNNL_ARG_DST, dstm}, {DNNL_ARG_SCRATCHPAD, scratch}});
                s.wait();
                t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
            }
            std::sort(t.begin(), t.end());
            double flop = 2.0 * sh.n * sh.h * sh.h * 9.0 * sh.c * sh.o;
            printf("%s n=%d %dx%d c=%d o=%d: %.2f ms, %.1f GFLOP/s (impl %s; scratchpad %.1f MiB, weights %.2f MiB)\n",
                   sh.winograd ? "winograd" : "direct  ", sh.n, sh.h, sh.h, sh.c, sh.o, t[t.size()/2]*1e3, flop / t[t.size()/2] / 1e9,
                   pd.impl_info_str(), pd.scratchpad_desc().get_size() / 1048576.0, pd.weights_desc().get_size() / 1048576.0);
        } catch (error& e) { printf("%s n=%d %dx%d c=%d: unsupported (%s)\n", sh.winograd ? "winograd" : "direct", sh.n, sh.h, sh.h, sh.c, e.what()); }
    }
}
