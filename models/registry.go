package models

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
)

// Entry is one model deepdream knows by name. The sha256 is the model's
// identity; the URLs are only places to look for it (mirrors die: the ONNX
// model zoo moved from GitHub to Hugging Face in 2025).
//
// Entries returned by Lookup and Registry share their Aliases maps and
// slices with the table: treat them as read-only.
type Entry struct {
	Name   string // registry name, e.g. "googlenet"
	File   string // file name in the cache, e.g. "googlenet-7.onnx"
	Size   int64  // bytes
	SHA256 string // lower-case hex
	URLs   []string
	// Profile is how to dream with the model: its preprocessing, default
	// layer (a friendly name, a key of Aliases), aliases, main layers
	// (friendly names worth offering first, shallow to deep) and input
	// size (dreaming works at any size; classification wants this one).
	dream.Profile
}

// DefaultName is the model used when none is given.
const DefaultName = "googlenet"

// zooURLs lists where the ONNX model zoo's file has lived, best first: the
// per-model Hugging Face repositories (the zoo's home since 2025), the
// legacy GitHub tree, and the Hugging Face copy of that tree.
func zooURLs(family, file string) []string {
	stem := strings.TrimSuffix(file, ".onnx")
	legacy := "validated/vision/classification/" + family + "/model/" + file
	return []string{
		"https://huggingface.co/onnxmodelzoo/" + stem + "/resolve/main/" + file,
		"https://github.com/onnx/models/raw/main/" + legacy,
		"https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/" + legacy,
	}
}

// googLeNetModules are GoogLeNet's nine inception modules, shallow to deep.
var googLeNetModules = []string{"3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"}

// googLeNetMain are the nine inception outputs, the classic DeepDream layers.
var googLeNetMain = func() []string {
	var names []string
	for _, m := range googLeNetModules {
		names = append(names, "inception_"+m+"/output")
	}
	return names
}()

// googLeNetAliases maps BVLC GoogLeNet's Caffe blob names to the tensor
// names of the Caffe -> Caffe2 -> ONNX conversion, which appends an SSA
// version: _1 for a blob's first write, _2 after an in-place ReLU. Checked
// on ../shared/models/googlenet-bvlc.onnx, which copies googlenet-7.onnx's
// naming.
var googLeNetAliases = func() map[string]string {
	a := map[string]string{
		"conv1/7x7_s2":     "conv1/7x7_s2_2",
		"conv2/3x3_reduce": "conv2/3x3_reduce_2",
		"conv2/3x3":        "conv2/3x3_2",
	}
	for _, blob := range []string{"pool1/3x3_s2", "pool1/norm1", "conv2/norm2", "pool2/3x3_s2", "pool3/3x3_s2", "pool4/3x3_s2"} {
		a[blob] = blob + "_1"
	}
	for _, m := range googLeNetModules {
		p := "inception_" + m + "/"
		a[p+"output"] = p + "output_1"
		a[p+"pool"] = p + "pool_1"
		for _, conv := range []string{"1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj"} {
			a[p+conv] = p + conv + "_2"
		}
	}
	return a
}()

// vggLayers names the post-ReLU output of every convolution of an MXNet
// Gluon VGG export (vgg0_relu<i>_fwd, i counting convolutions from 0) and
// of every pool (vgg0_pool<b>_fwd) by the paper's names (conv4_3, pool4),
// given the number of convolutions per block. It returns the aliases and
// the convolutions from block 3 on, the ones that dream recognisable shapes.
func vggLayers(blocks []int) (aliases map[string]string, main []string) {
	aliases = map[string]string{}
	i := 0
	for b, n := range blocks {
		for c := 1; c <= n; c++ {
			name := "conv" + strconv.Itoa(b+1) + "_" + strconv.Itoa(c)
			aliases[name] = "vgg0_relu" + strconv.Itoa(i) + "_fwd"
			if b >= 2 {
				main = append(main, name)
			}
			i++
		}
		aliases["pool"+strconv.Itoa(b+1)] = "vgg0_pool" + strconv.Itoa(b) + "_fwd"
	}
	return aliases, main
}

var (
	vgg16Aliases, vgg16Main = vggLayers([]int{2, 2, 3, 3, 3})
	vgg19Aliases, vgg19Main = vggLayers([]int{2, 2, 4, 4, 4})
)

// resNet50Stages names the output of each of ResNet-50's four stages
// (3, 4, 6, 3 residual blocks) "stage1".."stage4": the last block's output
// tensor, given its name format for (stage, block index).
func resNet50Stages(format string) (aliases map[string]string, main []string) {
	aliases = map[string]string{}
	for s, blocks := range []int{3, 4, 6, 3} {
		name := "stage" + strconv.Itoa(s+1)
		aliases[name] = fmt.Sprintf(format, s+1, blocks-1)
		main = append(main, name)
	}
	return aliases, main
}

var (
	// Gluon ResNet-v1 ends a block with an unnamed Activation: the relu
	// after the residual sum is resnetv17_stage<s>_activation<b>
	// (resnetv17_stage3_activation5 seen in public code for this file).
	resNet50V1Aliases, resNet50V1Main = resNet50Stages("resnetv17_stage%d_activation%d")
	// Gluon ResNet-v2 is pre-activation: a block's output is the residual
	// sum itself, resnetv24_stage<s>__plus<b> (resnetv24_stage3__plus0 seen
	// in public code for this file).
	resNet50V2Aliases, resNet50V2Main = resNet50Stages("resnetv24_stage%d__plus%d")
)

// squeezeNetLayers names the eight fire modules of SqueezeNet 1.1 (fire2 to
// fire9, the paper's numbering) after their Gluon concat outputs
// squeezenet0_concat0..7 (squeezenet0_concat7 = 1x512x13x13 at 224, seen in
// public code for this file).
var squeezeNetAliases, squeezeNetMain = func() (map[string]string, []string) {
	aliases := map[string]string{}
	var main []string
	for i := range 8 {
		name := "fire" + strconv.Itoa(i+2)
		aliases[name] = "squeezenet0_concat" + strconv.Itoa(i)
		main = append(main, name)
	}
	return aliases, main
}()

// registry is the table of known models. Sizes and sha256 are those of the
// ONNX model zoo files. Preprocessing comes from each zoo model's README;
// tensor names were checked where a copy or a listing was at hand, as each
// entry says.
var registry = []Entry{
	{
		// BVLC GoogLeNet, Caffe -> Caffe2 -> ONNX, opset 7: the network of
		// Google's DeepDream notebook. Names checked (see googLeNetAliases).
		Name: "googlenet", File: "googlenet-7.onnx", Size: 28020232,
		SHA256: "5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8",
		URLs:   zooURLs("inception_and_googlenet/googlenet", "googlenet-7.onnx"),
		Profile: dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "inception_4c/output",
			Aliases: googLeNetAliases, MainLayers: googLeNetMain, InputSize: 224},
	},
	{
		// The same network upgraded to opset 12. Its README subtracts the
		// BGR mean 103.939/116.779/123.68, which rounds to Caffe's. Tensor
		// names assumed to be googlenet-7's (same conversion), not checked.
		Name: "googlenet-12", File: "googlenet-12.onnx", Size: 28021836,
		SHA256: "c99c507058eaf41de8723408fdda7db8325cb57f0a89f2ee07a716d6e963e14e",
		URLs:   zooURLs("inception_and_googlenet/googlenet", "googlenet-12.onnx"),
		Profile: dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "inception_4c/output",
			Aliases: googLeNetAliases, MainLayers: googLeNetMain, InputSize: 224},
	},
	{
		// Caffe2's GoogLeNet reproduction (input data_0, output prob_1 per
		// its README, like googlenet-7). The README gives no preprocessing:
		// Caffe's is assumed, and so are googlenet-7's tensor names; neither
		// is checked.
		Name: "inception-v1", File: "inception-v1-12.onnx", Size: 28021958,
		SHA256: "814b31a6316873bd03d2d808415ce1f40a7bf48ad88eab5ecc3cdc8dc6cf38ec",
		URLs:   zooURLs("inception_and_googlenet/inception_v1", "inception-v1-12.onnx"),
		Profile: dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "inception_4c/output",
			Aliases: googLeNetAliases, MainLayers: googLeNetMain, InputSize: 224},
	},
	{
		// Caffe2's Inception v2 (BN-Inception), input data_0. The README
		// gives no preprocessing (Caffe's is assumed) and no tensor names
		// could be checked offline: the default layer follows the Caffe2
		// naming of the GoogLeNets and is a guess; there are no aliases.
		// `deepdream layers --model inception-v2` lists the real names.
		Name: "inception-v2", File: "inception-v2-9.onnx", Size: 45042799,
		SHA256:  "37ed4aa93f817fd0d1cc19bda045ebd70f18d0887a5f51e66ecd0ed8fd5a65c2",
		URLs:    zooURLs("inception_and_googlenet/inception_v2", "inception-v2-9.onnx"),
		Profile: dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "inception_4c/output_1", InputSize: 224},
	},
	{
		// MXNet Gluon VGG-16, ImageNet normalisation (README). Names follow
		// the Gluon export checked on a VGG-19 listing; not checked on this
		// file.
		Name: "vgg16", File: "vgg16-7.onnx", Size: 553437328,
		SHA256: "f20805a3ecccaa88647bbab4ad011ff2412a9838485ea844de0fcbce349820b9",
		URLs:   zooURLs("vgg", "vgg16-7.onnx"),
		Profile: dream.Profile{Preprocess: dream.ImageNet, DefaultLayer: "conv4_3",
			Aliases: vgg16Aliases, MainLayers: vgg16Main, InputSize: 224},
	},
	{
		// MXNet Gluon VGG-19, ImageNet normalisation (README). Names checked
		// on a public listing of a Gluon VGG-19 export (vgg0_relu0_fwd ..
		// vgg0_relu15_fwd, vgg0_pool0_fwd .. vgg0_pool4_fwd).
		Name: "vgg19", File: "vgg19-7.onnx", Size: 574677321,
		SHA256: "692f9f927f1df1b89033787a77a73eac59fd9b3344f9ecdf0b13221e41c2046f",
		URLs:   zooURLs("vgg", "vgg19-7.onnx"),
		Profile: dream.Profile{Preprocess: dream.ImageNet, DefaultLayer: "conv4_4",
			Aliases: vgg19Aliases, MainLayers: vgg19Main, InputSize: 224},
	},
	{
		// MXNet Gluon ResNet-50 v1, opset 12. The README normalises with
		// mean 255*(0.485, 0.456, 0.406) and std 255*(0.229, 0.224, 0.225)
		// on 0..255 RGB, which is ImageNet.
		Name: "resnet50", File: "resnet50-v1-12.onnx", Size: 102576593,
		SHA256: "3f03fdef724b22947eed826f1eef1dc5c34151bb4c37d634f1db89dfa2dd1526",
		URLs:   zooURLs("resnet", "resnet50-v1-12.onnx"),
		Profile: dream.Profile{Preprocess: dream.ImageNet, DefaultLayer: "stage3",
			Aliases: resNet50V1Aliases, MainLayers: resNet50V1Main, InputSize: 224},
	},
	{
		// MXNet Gluon ResNet-50 v2, ImageNet normalisation (README).
		Name: "resnet50-v2", File: "resnet50-v2-7.onnx", Size: 102442452,
		SHA256: "79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31",
		URLs:   zooURLs("resnet", "resnet50-v2-7.onnx"),
		Profile: dream.Profile{Preprocess: dream.ImageNet, DefaultLayer: "stage3",
			Aliases: resNet50V2Aliases, MainLayers: resNet50V2Main, InputSize: 224},
	},
	{
		// MXNet Gluon SqueezeNet 1.1, ImageNet normalisation (README, which
		// also says 224, not Caffe's 227).
		Name: "squeezenet", File: "squeezenet1.1-7.onnx", Size: 4956208,
		SHA256: "1eeff551a67ae8d565ca33b572fc4b66e3ef357b0eb2863bb9ff47a918cc4088",
		URLs:   zooURLs("squeezenet", "squeezenet1.1-7.onnx"),
		Profile: dream.Profile{Preprocess: dream.ImageNet, DefaultLayer: "fire7",
			Aliases: squeezeNetAliases, MainLayers: squeezeNetMain, InputSize: 224},
	},
}

// Registry returns the known models, the default first.
func Registry() []Entry {
	return append([]Entry(nil), registry...)
}

// Lookup returns the registry entry called name.
func Lookup(name string) (*Entry, error) {
	return lookupIn(registry, name)
}

func lookupIn(entries []Entry, name string) (*Entry, error) {
	for i := range entries {
		if entries[i].Name == name {
			e := entries[i]
			return &e, nil
		}
	}
	return nil, fmt.Errorf("models: no model named %q (known: %s)", name, names(entries))
}

func names(entries []Entry) string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name)
	}
	return strings.Join(s, ", ")
}
