package image_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/lib/image/imagetest"
)

// Every seed gives a changed image with a description, the same one each
// time; the kinds of mutation all occur.
func TestMutate(t *testing.T) {
	for _, order := range orders {
		img := imagetest.Image(order, imagetest.TwoTasks)
		m, err := image.NewMutator(img)
		if err != nil {
			t.Fatal(err)
		}
		if m.Records() < 10 {
			t.Fatalf("%d records in the sample image", m.Records())
		}
		other, err := image.NewMutator(imagetest.Image(order, []imagetest.Task{{Pid: 7, Comm: "donor", Pages: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		other.Name = "donor"
		m.SetDonors([]*image.Mutator{m, other})
		seen := map[string]int{}
		for seed := uint64(0); seed < 2000; seed++ {
			a, b := m.Mutate(seed), m.Mutate(seed)
			if !bytes.Equal(a.Image, b.Image) || a.Desc != b.Desc {
				t.Fatalf("seed %d: two different mutations (%q, %q)", seed, a.Desc, b.Desc)
			}
			if bytes.Equal(a.Image, img) {
				t.Fatalf("seed %d: image unchanged by %q", seed, a.Desc)
			}
			if a.Desc == "" || a.Seed != seed {
				t.Fatalf("seed %d: mutation %+v", seed, a.Desc)
			}
			for _, k := range []string{"truncated", "dropped", "duplicated", "swapped", "moved",
				"copied over", "inserted", "flipped", "length", "type", "-> 0xffffffff", ": bits", "of donor"} {
				if strings.Contains(a.Desc, k) {
					seen[k]++
				}
			}
		}
		for _, k := range []string{"truncated", "dropped", "duplicated", "swapped", "moved",
			"copied over", "inserted", "flipped", "length", "type", "-> 0xffffffff", ": bits", "of donor"} {
			if seen[k] == 0 {
				t.Errorf("no mutation of kind %q in 2000 seeds", k)
			}
		}
		// The original is left alone.
		if !bytes.Equal(img, imagetest.Image(order, imagetest.TwoTasks)) {
			t.Fatal("Mutate changed the image it was given")
		}
	}
}

// Mutated images are what the decoder must survive too: none panics it.
func TestMutateDecodes(t *testing.T) {
	img := imagetest.Image(orders[0], imagetest.TwoTasks)
	m, err := image.NewMutator(img)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for seed := uint64(0); seed < 2000; seed++ {
		if _, err := image.Summarize(bytes.NewReader(m.Mutate(seed).Image)); err != nil {
			bad++
		}
	}
	if bad == 0 {
		t.Error("the decoder accepted every mutated image")
	}
}

func TestMutatorRefusesBadImage(t *testing.T) {
	img := imagetest.Image(orders[0], imagetest.TwoTasks)
	if _, err := image.NewMutator(img[:len(img)-3]); err == nil {
		t.Fatal("NewMutator took a truncated image")
	}
}
