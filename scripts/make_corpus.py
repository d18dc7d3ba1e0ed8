#!/usr/bin/env python3
"""Generate interv's own TinyStories-style corpus from hand-written templates.

Every sentence pattern and word list below was written for this project. A story
is a short plot (beginning, problem, end) built from a plot template whose slots
(characters, places, objects, feelings, dialogue) are filled with a seeded
random.Random, so the output is reproducible byte for byte.

One story per paragraph (a single line), blank line between stories; ASCII only;
simple words that the 512-token stories260K model has seen.

Usage:
  python3 scripts/make_corpus.py                 # both default files into data/corpus
  python3 scripts/make_corpus.py --outdir DIR    # same files into DIR
  python3 scripts/make_corpus.py --seed N --bytes N --out FILE   # one file
"""
import argparse
import os
import random

# Defaults used for the committed files (train and held-out use different seeds).
DEFAULTS = [("stories.txt", 2024, 1_600_000), ("heldout.txt", 7331, 150_000)]

GIRLS = ["Lily", "Sue", "Anna", "Mia", "Lucy", "Amy", "Emma", "Kate", "Jill",
         "Sara", "Zoe", "Ella", "Rose", "May", "Molly", "Daisy", "Jane", "Kim"]
BOYS = ["Tom", "Ben", "Tim", "Max", "Sam", "Jack", "Leo", "Bob", "Joe", "Dan",
        "Jake", "Timmy", "Billy", "Ted", "Nick", "Finn", "Paul", "Ron"]
ADULTS = [("mom", "Mom", "she", "her"), ("dad", "Dad", "he", "his"),
          ("grandma", "Grandma", "she", "her"), ("grandpa", "Grandpa", "he", "his")]
# (animal, young form, sound, a thing it does)
ANIMALS = [("dog", "puppy", "barked", "wagged its tail"),
           ("cat", "kitten", "purred", "licked its paws"),
           ("bird", "baby bird", "sang", "flapped its wings"),
           ("bunny", "little bunny", "squeaked", "hopped up and down"),
           ("frog", "little frog", "croaked", "jumped on a rock"),
           ("duck", "duckling", "quacked", "shook its feathers"),
           ("mouse", "little mouse", "squeaked", "ran in a circle"),
           ("bear", "bear cub", "growled", "rolled on the grass"),
           ("fox", "fox cub", "yipped", "hid behind a bush"),
           ("pig", "piglet", "oinked", "rolled in the mud"),
           ("cow", "calf", "mooed", "ate some grass"),
           ("horse", "pony", "neighed", "kicked up its feet"),
           ("owl", "owlet", "hooted", "blinked its big eyes"),
           ("squirrel", "baby squirrel", "chattered", "ran up a tree"),
           ("turtle", "baby turtle", "hissed", "hid in its shell"),
           ("lamb", "little lamb", "baaed", "jumped in the air"),
           ("chick", "little chick", "peeped", "pecked at the ground")]
# Animals that live with a family as pets.
PETS = ["dog", "cat", "bird", "bunny", "puppy", "kitten", "fish", "turtle",
        "mouse", "dog", "cat", "hamster", "duck", "frog"]
PET_NAMES = ["Spot", "Buddy", "Fluffy", "Coco", "Rex", "Lucky", "Bella", "Pip",
             "Rusty", "Socks", "Boots", "Snowy", "Patch", "Daisy", "Bubbles", "Peanut"]
# (toy, pronoun it/they is always "it")
TOYS = ["ball", "kite", "doll", "teddy bear", "toy car", "toy truck", "red ball",
        "toy boat", "drum", "yo-yo", "toy train", "puzzle", "jump rope", "block",
        "toy robot", "wagon", "bucket", "shovel", "crayon", "book", "balloon",
        "little car", "blue ball", "stuffed bunny", "spinning top", "toy plane"]
COLORS = ["red", "blue", "green", "yellow", "pink", "purple", "orange", "white",
          "brown", "shiny", "soft", "big", "little", "new", "old", "sparkly"]
PLACES = ["park", "garden", "forest", "beach", "farm", "zoo", "pond", "hill",
          "yard", "playground", "lake", "river", "meadow", "field", "woods"]
FOODS = ["cake", "cookie", "apple", "pie", "soup", "bread", "candy", "ice cream",
         "banana", "sandwich", "cupcake", "pizza", "carrot", "muffin", "orange",
         "pancake", "strawberry", "jam sandwich", "bowl of cereal", "cheese"]
MASS = ["candy", "bread", "soup", "ice cream", "cheese", "pizza", "cake", "pie"]
BAKES = ["cake", "pie", "cookies", "cupcakes", "bread", "muffins", "pancakes"]
ADJ_KID = ["little", "happy", "kind", "curious", "brave", "shy", "funny", "smart",
           "sweet", "busy", "friendly", "cheerful", "playful", "gentle"]
TIMES = ["day", "morning", "afternoon", "sunny day", "rainy day", "cold day",
         "warm day", "windy day", "summer day", "winter morning", "bright morning"]
HOBBIES = ["play outside", "draw pictures", "sing songs", "run and jump",
           "read books", "play with {his} toys", "look at the sky", "help {his} mom",
           "dance", "play in the sand", "ride {his} bike", "build towers with blocks",
           "splash in puddles", "pick flowers", "play games with {his} friends",
           "look for bugs", "watch the birds", "climb trees"]
NATURE = ["flowers", "trees", "birds", "clouds", "butterflies", "leaves",
          "bugs", "rocks", "stars", "shells"]
GOOD = ["happy", "glad", "proud", "excited", "thankful", "calm", "joyful"]
BAD = ["sad", "scared", "worried", "upset", "angry", "lonely", "grumpy", "tired"]
FINDS = ["a shiny stone", "a big leaf", "a red feather", "a little shell",
         "an old key", "a tiny flower", "a smooth rock", "a gold coin",
         "a blue button", "a long stick", "a pine cone", "a funny hat"]
WEATHER_BAD = ["it started to rain", "a big wind came", "dark clouds came",
               "it began to snow", "the sky turned gray", "a storm came"]


def an(word):
    """Article + word: 'an apple', 'a ball'."""
    return ("an " if word[0] in "aeiou" else "a ") + word


def plural(word):
    if word.endswith(("s", "sh", "ch")):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


class Ctx(dict):
    """Slot values for one story; format() fills {H}, {he}, {He}, ..."""

    def __init__(self, r):
        super().__init__()
        self.r = r
        girl = r.random() < 0.5
        self["H"] = r.choice(GIRLS if girl else BOYS)
        self.person("", girl)
        fgirl = r.random() < 0.5
        self["F"] = r.choice([n for n in (GIRLS if fgirl else BOYS) if n != self["H"]])
        self.person("f", fgirl)
        ad = r.choice(ADULTS)
        self["ad"], self["Ad"], self["adhe"], self["adhis"] = ad
        self["Adhe"] = ad[2].capitalize()
        an_ = r.choice(ANIMALS)
        self["animal"], self["young"], self["sound"], self["animal_does"] = an_
        self["pet"] = r.choice(PET_NAMES)
        self["petanimal"] = r.choice(PETS)
        self["cuddly"] = r.choice(["teddy bear", "doll", "stuffed bunny", "blanket", "pillow"])
        self["toy"] = r.choice(TOYS)
        self["color"] = r.choice(COLORS)
        self["place"] = r.choice(PLACES)
        self["place2"] = r.choice([p for p in PLACES if p != self["place"]])
        self["food"] = r.choice(FOODS)
        self["bake"] = r.choice(BAKES)
        self["adj"] = r.choice(ADJ_KID)
        self["time"] = r.choice(TIMES)
        self["good"] = r.choice(GOOD)
        self["bad"] = r.choice(BAD)
        self["nature"] = r.choice(NATURE)
        self["find"] = r.choice(FINDS)
        self["weather"] = r.choice(WEATHER_BAD)
        self["n"] = r.choice(["two", "three", "four", "five"])

    def person(self, p, girl):
        he, his, him, kind = (("she", "her", "her", "girl") if girl
                              else ("he", "his", "him", "boy"))
        self[p + "he"], self[p + "his"], self[p + "him"], self[p + "kind"] = he, his, him, kind
        self[p + "He"], self[p + "His"] = he.capitalize(), his.capitalize()

    def f(self, *options):
        """Pick one option (a string or a list of strings) and fill its slots."""
        s = self.r.choice(options)
        if isinstance(s, (list, tuple)):
            return " ".join(self.fill(x) for x in s)
        return self.fill(s)

    def fill(self, s):
        s = s.format(**self)
        if "{" in s:  # slot values may hold slots themselves ({his} in hobbies)
            s = s.format(**self)
        return s[0].upper() + s[1:] if s else s


# ---- shared story parts -------------------------------------------------------

def opening(c, pet_plot=False):
    c["hobby"] = c.r.choice(HOBBIES)
    first = c.f(
        "Once upon a time, there was {adj_a} {kind} named {H}.",
        "Once upon a time, in a small town, there lived {adj_a} {kind} named {H}.",
        "There was once {adj_a} {kind} called {H}.",
        "{H} was {adj_a} {kind} who lived in a little house by the {place}.",
        "Once upon a time, there was {adj_a} {kind}. {His} name was {H}.",
        "One {time}, {adj_a} {kind} named {H} woke up early.",
        "{H} was {n} years old.",
    )
    second = c.f(
        "{He} loved to {hobby}.",
        "{He} liked to {hobby} every day.",
        "More than anything, {he} liked to {hobby}.",
        "{He} had {toy_a} that {he} loved very much.",
        "Every day, {he} went to the {place} to {hobby}.",
        *([] if pet_plot else ["{He} had a best friend named {F}.",
                               "{He} lived with {his} {ad} and a {petanimal} named {pet}."]),
    )
    return [first, second]


def ending(c, moral=None, with_friend=False):
    opts = [
        "From that day on, {H} and {F} were best friends." if with_friend
        else "From that day on, {H} was a little bit braver.",
        "{H} smiled. It was the best day ever.",
        "That night, {H} went to bed with a big smile.",
        "{H} was very {good}, and {he} never forgot that day.",
        "And they all lived happily ever after.",
        "{H} hugged {his} {ad} and said, \"Thank you!\"",
        "They went home, tired and happy.",
    ]
    out = [c.f(*opts)]
    if moral:
        out.append(c.f(*moral))
    return out


def setup(c):
    c["adj_a"] = an(c["adj"])
    c["toy_a"] = an(c["toy"])
    c["color_toy"] = an(c["color"] + " " + c["toy"])
    c["food_a"] = ("some " + c["food"] if c["food"] in MASS else an(c["food"]))
    c["animal_a"] = an(c["animal"])
    c["young_a"] = an(c["young"])
    c["pet_a"] = an(c["petanimal"])
    c["bakes"] = c["bake"]


# ---- plots: each returns the middle of a story as a list of sentences ------------

def plot_lost_toy(c):
    return [
        c.f("{H} had {color_toy}. {He} took it everywhere.",
            "{His} favorite toy was {color_toy}.",
            "{H} got {color_toy} from {his} {ad}."),
        c.f("One {time}, {he} took it to the {place} to play.",
            "One {time}, {he} played with it at the {place}.",
            "{He} and {F} played with it at the {place}."),
        c.f("When it was time to go home, the {toy} was gone!",
            "Then {he} looked down, and the {toy} was not there.",
            "But when {he} turned around, {his} {toy} was gone."),
        c.f("{H} felt {bad}. \"Where is my {toy}?\" {he} cried.",
            "{H} was very {bad}. {He} looked under the bench and behind the {nature}.",
            "\"Oh no!\" said {H}. \"I lost my {toy}!\""),
        c.f("{F} came to help. \"Let's look together,\" {fhe} said.",
            "{His} {ad} said, \"Don't worry. We will find it.\"",
            "A {animal} came by and {animal_does}. It wanted to help too."),
        c.f("They looked by the {place2} path and under the slide.",
            "They looked high and low, near the {nature} and by the gate.",
            "They looked in the grass, under the leaves and near the water."),
        c.f("At last, {F} saw something {color} in the grass. It was the {toy}!",
            "Then the {animal} {sound}. It was sitting right next to the {toy}!",
            "Then {H} saw it. The {toy} was under a big bush."),
        c.f("{H} picked it up and hugged it. \"Thank you!\" {he} said.",
            "{H} was so {good}. {He} said thank you to everyone.",
            "{H} laughed and held the {toy} close."),
    ], [
        "{H} learned to be careful with {his} things.",
        "After that, {H} always put {his} toys away.",
        "Now {he} knew that friends help each other.",
    ]


def plot_new_friend(c):
    return [
        c.f("One {time}, {H} went to the {place}.",
            "One {time}, {H} was walking near the {place}.",
            "{H} went for a walk with {his} {ad} to the {place}."),
        c.f("There {he} saw {young_a}. It looked {bad}.",
            "Under a tree, {he} found {young_a} all alone.",
            "{He} heard a small sound. It was {young_a}!"),
        c.f("\"Hello, little {animal},\" said {H}. \"Are you lost?\"",
            "\"Why are you {bad}?\" asked {H}.",
            "{H} sat down next to it and said, \"Hi! I am {H}.\""),
        c.f("The {animal} {sound} and looked at {him}.",
            "The {animal} did not say a word. It just {animal_does}.",
            "The little {animal} was shy at first."),
        c.f("{H} gave it a piece of {his} {food}.",
            "{H} waited and spoke in a soft voice.",
            "{H} showed it {his} {toy} and smiled."),
        c.f("Soon the {animal} was not {bad} anymore. It {animal_does}.",
            "Then the {animal} came closer and {animal_does}.",
            "The {animal} liked {H}. It {sound} with joy."),
        c.f("They played together all {time}.",
            "They ran and played until the sun went down.",
            "{H} and the {animal} played in the grass and had lots of fun."),
        c.f("{H} named the {animal} {pet}.",
            "{His} {ad} said {he} could visit {pet} every day.",
            "When the mother {animal} came, the little one ran to her, and {H} waved goodbye."),
    ], [
        "{H} learned that being kind makes new friends.",
        "{H} knew that a little kindness can go a long way.",
    ]


def plot_sharing(c):
    return [
        c.f("One {time}, {H} and {F} were playing at the {place}.",
            "{H} and {F} went to the {place} to play.",
            "{F} came over to play with {H}."),
        c.f("{H} had {color_toy}. {F} wanted to play with it too.",
            "They both wanted to play with the same {toy}.",
            "{F} saw {H}'s {toy} and said, \"Can I have a turn?\""),
        c.f("\"No, it is mine!\" said {H}.",
            "{H} held the {toy} tight and said, \"No!\"",
            "\"I want it first!\" shouted {H}."),
        c.f("{F} was sad and started to cry.",
            "{F} felt {bad} and walked away.",
            "They both pulled the {toy}, and they both got angry."),
        c.f("{H}'s {ad} saw them. \"It is good to share,\" {adhe} said.",
            "{H}'s {ad} came and said, \"If you share, you can both have fun.\"",
            "Then {H} thought about how {F} felt."),
        c.f("{H} said sorry and gave the {toy} to {F}.",
            "{H} said, \"You can have a turn. I am sorry.\"",
            "{H} gave {F} the {toy} and said, \"Let's play together.\""),
        c.f("{F} smiled. They took turns, and it was more fun.",
            "They played with the {toy} together and laughed a lot.",
            "{F} was happy again. Then {fhe} shared {fhis} {food} with {H}."),
    ], [
        "{H} learned that sharing is caring.",
        "Sharing made the day better for both of them.",
        "{H} learned that it is more fun to play together.",
    ]


def plot_weather(c):
    return [
        c.f("One {time}, {H} and {F} wanted to go to the {place}.",
            "{H} and {F} wanted to play outside at the {place}.",
            "{H} asked {F} to come and play at the {place}."),
        c.f("But {weather}.", "Then {weather}, and they had to stay inside.",
            "They put on their shoes, but {weather}."),
        c.f("{H} was {bad}. \"Now we can't play,\" {he} said.",
            "{H} looked out the window and felt {bad}.",
            "\"This is not fair!\" said {H}."),
        c.f("{His} {ad} said, \"We can have fun inside too.\"",
            "{His} {ad} had an idea. \"Let's build a fort!\"",
            "{F} said, \"Let's play a game!\""),
        c.f("They made a fort with a big blanket and pillows.",
            "They drew pictures of the {nature} and the sun.",
            "They played with the {toy} and sang songs.",
            "They baked {bake} and ate them warm."),
        c.f("Soon the sky was clear and the sun came out.",
            "After a while, the rain stopped and the sun came out.",
            "Later, the wind was gone, and the sky was blue."),
        c.f("They ran outside and jumped in the puddles.",
            "They went to the {place} and played until dinner.",
            "They saw a rainbow in the sky. It was so pretty!"),
    ], [
        "{H} learned that a bad day can turn into a good day.",
        "There is always a way to have fun.",
    ]


def plot_baking(c):
    return [
        c.f("One {time}, {H} and {his} {ad} wanted to bake {bake}.",
            "{H}'s {ad} said, \"Let's make {bake} today!\"",
            "It was {F}'s birthday, so {H} wanted to bake {bake}."),
        c.f("They got flour, eggs, milk and sugar.",
            "They put flour and sugar in a big bowl.",
            "{H} put on an apron and washed {his} hands."),
        c.f("{H} mixed and mixed. Flour got on {his} nose!",
            "{H} poured the milk, but some fell on the floor.",
            "{H} cracked an egg, and it fell on the table."),
        c.f("\"Oops!\" said {H}. {His} {ad} laughed.",
            "{H} felt {bad}, but {his} {ad} said, \"It is okay. We can clean it.\"",
            "They both laughed and cleaned it up."),
        c.f("They put the {bake} in the oven and waited.",
            "The {bake} went into the hot oven. {H} watched through the glass.",
            "They waited a long time. The kitchen smelled so good."),
        c.f("At last, the {bake} came out. They were warm and sweet." if c["bake"].endswith("s")
            else "At last, the {bake} came out. It was warm and sweet.",
            "Soon it was time. The {bake} looked perfect."),
        c.f("{H} shared the {bake} with {F}. \"Yummy!\" said {F}.",
            "They ate the {bake} with a glass of milk.",
            "{H} gave some to the neighbors, and everyone was {good}."),
    ], [
        "{H} learned that cooking with family is fun.",
        "Making something with love makes it taste better.",
    ]


def plot_adventure(c):
    return [
        c.f("One {time}, {H} and {F} went to explore the {place}.",
            "{H} wanted to go on an adventure in the {place}.",
            "{H} found an old map. It showed the way to the {place}."),
        c.f("They walked past the {nature} and over a little bridge.",
            "They packed a bag with {food_a} and a flashlight.",
            "The path was long, and the trees were tall."),
        c.f("Then they found a dark cave.",
            "Soon they came to a big old tree with a hole in it.",
            "Then they saw a little door in a hill."),
        c.f("\"I am {bad},\" said {F}. \"What if something is in there?\"",
            "{H} was a little scared, but {he} wanted to be brave.",
            "They heard a strange noise. \"What is that?\" asked {H}."),
        c.f("They held hands and went inside.",
            "{H} took a deep breath and looked inside.",
            "They walked in slowly, one step at a time."),
        c.f("Inside, they found {find}!",
            "It was just {animal_a}. It {sound} and {animal_does}.",
            "Inside there was a box, and in the box was {find}."),
        c.f("They laughed and went home to tell {H}'s {ad}.",
            "They took it home and showed everyone.",
            "It was the best adventure ever."),
    ], [
        "{H} learned that being brave can be fun.",
        "Sometimes, scary things are not scary at all.",
    ]


def plot_helping(c):
    return [
        c.f("One {time}, {H} was playing at the {place}.",
            "{H} was walking home from the {place}."),
        c.f("{He} saw {F} sitting on the ground. {F} was crying.",
            "{He} heard someone cry. It was {F}."),
        c.f("\"What is wrong?\" asked {H}.",
            "{H} ran to help. \"Are you okay?\" {he} asked."),
    ] + c.r.choice([
        [c.f("\"I fell and hurt my knee,\" said {F}.", "\"I fell off my bike,\" said {F}. {fHis} knee was red."),
         c.f("{H} held {F}'s hand and walked {fhim} home.", "{H} called {his} {ad}, and {adhe} came to help."),
         c.f("{H}'s {ad} put a bandage on the knee and gave {F} a hug.", "Soon the knee did not hurt so much.")],
        [c.f("\"I can't find my way home,\" said {F}.", "\"I am lost,\" said {F}."),
         c.f("{H} thought for a moment. Then {he} had an idea.", "{H} knew the way."),
         c.f("{H} walked with {F} past the {place2} and down the hill to {fhis} house.",
             "They followed the river, and soon they saw {F}'s house.")],
        [c.f("\"My {toy} is stuck up in the tree,\" said {F}.", "\"My {toy} is on the roof,\" said {F}."),
         c.f("{H} thought for a moment. Then {he} had an idea.", "{H} looked around for something to help."),
         c.f("{H} got a long stick and pushed the {toy} down. It worked!",
             "{H} asked a tall man, and he reached up and got the {toy}.")],
    ]) + [
        c.f("{F} smiled. \"Thank you, {H}. You are a good friend.\"",
            "\"Thank you so much!\" said {F}, and {fhe} gave {H} a hug."),
    ], [
        "{H} felt warm inside. Helping others felt good.",
        "{H} learned that it is good to help others.",
    ]


def plot_try_again(c):
    task = c.r.choice([
        ("climb the big tree", "climbed up the tree", "slipped and fell down", "sat on the top branch and saw the whole town"),
        ("ride {his} new bike", "got on the bike", "wobbled and fell over", "rode all the way down the street"),
        ("swim in the pond", "jumped into the water", "swallowed some water and coughed", "swam from one side to the other"),
        ("fly {his} kite", "ran with the kite", "watched the kite crash to the ground", "watched the kite fly high in the sky"),
        ("jump over the log", "ran and jumped", "tripped and landed in the mud", "jumped over it with room to spare"),
        ("build a tall tower of blocks", "put the blocks up one by one", "watched the tower fall down", "built a tower taller than {his} head"),
        ("tie {his} shoes", "tried to tie the laces", "made a big knot", "tied a perfect bow"),
    ])
    c["task"], c["tried"], c["fail"], c["win"] = task
    return [
        c.f("{H} wanted to {task}.", "More than anything, {H} wanted to {task}.",
            "One {time}, {H} said, \"Today I will {task}!\""),
        c.f("{He} {tried}, but {he} {fail}.", "The first time, {he} {fail}."),
        c.f("{H} felt {bad}. \"I can't do it,\" {he} said.",
            "{He} wanted to give up."),
        c.f("{His} {ad} said, \"Try again. You can do it!\"",
            "{F} said, \"Don't give up! I will help you.\"",
            "{His} {ad} smiled and said, \"Everyone falls at first.\""),
        c.f("{H} tried again, and again.", "So {H} tried one more time, slow and careful."),
        c.f("This time, {he} {win}!", "At last, {he} {win}."),
        c.f("\"I did it!\" shouted {H}.", "Everyone clapped for {H}."),
    ], [
        "{H} learned to never give up.",
        "{H} learned that practice makes things easier.",
    ]


def plot_birthday(c):
    return [
        c.f("Today was {H}'s birthday.", "It was {F}'s birthday, and {H} was invited to the party.",
            "{H} woke up and remembered it was {his} birthday!"),
        c.f("There were balloons and a big cake with candles.",
            "{His} {ad} made a big cake with {n} candles.",
            "All {his} friends came to the party at the {place}."),
        c.f("{H} wanted {color_toy} as a gift more than anything.",
            "{H} wanted to give {F} a special gift, but {he} had no money.",
            "{H} hoped for {animal_a} of {his} own."),
        c.f("{He} was worried. \"What if I do not get it?\" {he} thought.",
            "So {he} made a card with a {color} heart and a drawing of the {nature}.",
            "{He} waited and waited."),
        c.f("They sang a song, and {H} blew out the candles.",
            "They played games and ate cake and ice cream.",
            "Everyone laughed and danced."),
        c.f("Then {his} {ad} gave {him} a box. Inside was {color_toy}!",
            "The card made {F} smile. \"This is the best gift!\" {fhe} said.",
            "Then {his} {ad} came in with a little {young} in a basket!"),
        c.f("{H} jumped up and down with joy.", "{H} gave everyone a big hug."),
    ], [
        "{H} learned that the best gifts come from the heart.",
        "It was a birthday {H} would never forget.",
    ]


def plot_garden(c):
    plant = c.r.choice(["sunflower", "carrot", "tomato", "bean", "pumpkin", "apple tree", "rose"])
    c["plant"] = plant
    return [
        c.f("One {time}, {H}'s {ad} gave {him} a little seed.",
            "{H} found a seed in the {place}.",
            "{H} wanted to grow a {plant}."),
        c.f("{He} dug a hole in the garden and put the seed in.",
            "{He} planted the seed in a pot by the window."),
        c.f("Every day, {he} gave it water and waited.",
            "{He} watered it every morning and sang to it."),
        c.f("But nothing grew. {H} felt {bad}.",
            "One day, a {animal} came and dug in the dirt. {H} was upset.",
            "For many days, there was only dirt."),
        c.f("\"Be patient,\" said {his} {ad}. \"Good things take time.\"",
            "{F} said, \"Let's keep trying. The sun will help.\""),
        c.f("Then one morning, {he} saw a tiny green leaf!",
            "After a week, a little green plant came up."),
        c.f("It grew and grew, and soon it was a big {plant}.",
            "The little plant grew tall in the sun, and it became a {plant}."),
        c.f("{H} showed it to everyone. {He} was so {good}.",
            "{H} and {F} sat next to it and smiled."),
    ], [
        "{H} learned that good things take time.",
        "Patience and care help things grow.",
    ]


def plot_pet_runs(c):
    c["petanimal"] = c.r.choice(["dog", "cat", "puppy", "kitten", "bunny", "dog"])
    c["pet_a"] = an(c["petanimal"])
    return [
        c.f("{H} had {pet_a} named {pet}.", "{H}'s best friend was a {petanimal} called {pet}."),
        c.f("{pet} liked to play in the yard.", "{pet} was small and very fast."),
        c.f("One {time}, the gate was open, and {pet} ran away!",
            "One {time}, {pet} saw something and ran out the door."),
        c.f("{H} was {bad}. \"{pet}! Come back!\" {he} called.",
            "{H} looked everywhere, but {pet} was gone."),
        c.f("{He} asked {F} for help. They looked at the {place}.",
            "{H} and {his} {ad} walked down the street calling {pet}'s name."),
        c.f("They looked by the {place2}, but {pet} was not there.",
            "They asked a man with a hat. He said, \"I saw it go that way.\""),
        c.f("Then they heard a sound. It was {pet}!",
            "At last, they found {pet} under a big tree, playing with {find}."),
        c.f("{H} hugged {pet} tight. \"I missed you!\" {he} said.",
            "{pet} ran to {H} as fast as it could."),
        c.f("After that, {H} always closed the gate.", "They walked home together."),
    ], [
        "{H} learned to take good care of {pet}.",
        "{H} was glad to have {pet} back home.",
    ]


def plot_honest(c):
    thing = c.r.choice(["vase", "lamp", "cup", "plate", "window", "jar", "bowl"])
    c["thing"] = thing
    return [
        c.f("{H} was playing with {his} {toy} in the house.",
            "{H} was running in the living room."),
        c.f("{His} {ad} said, \"Be careful, do not play inside.\"",
            "{He} knew {he} should not run inside."),
        c.f("Then, crash! {He} hit the {thing}, and it broke.",
            "Oh no! The {toy} hit {his} {ad}'s favorite {thing}, and it broke."),
        c.f("{H} felt {bad}. {He} wanted to hide.",
            "{H} was scared. {He} thought, \"Maybe no one will know.\""),
        c.f("{His} {ad} came in and asked, \"What happened?\"",
            "When {his} {ad} saw the {thing}, {adhe} was surprised."),
        c.f("{H} thought for a moment. Then {he} told the truth.",
            "{H} said, \"I did it. I am sorry.\""),
        c.f("{His} {ad} gave {him} a hug. \"Thank you for telling me the truth.\"",
            "{His} {ad} was not angry. \"I am proud of you for being honest,\" {adhe} said."),
        c.f("Together they cleaned up, and they fixed it with glue.",
            "They cleaned up together and then played outside."),
    ], [
        "{H} learned that it is always best to tell the truth.",
        "Being honest made {H} feel better inside.",
    ]


def plot_picnic(c):
    return [
        c.f("One {time}, {H} and {his} {ad} went on a picnic at the {place}.",
            "{H} and {F} packed a basket for a picnic."),
        c.f("They brought {food_a}, some juice and a blanket.",
            "In the basket, there was {food_a} and a big jar of lemonade."),
        c.f("They found a nice spot under a tree.", "They sat on the soft grass near the water."),
        c.f("But then some ants came and climbed on the {food}!",
            "Then {animal_a} came and took the {food}!",
            "But then {weather}."),
        c.f("\"Oh no!\" said {H}. {He} felt {bad}.", "{H} did not know what to do."),
        c.f("{His} {ad} laughed. \"Let's move to a new spot.\"",
            "{F} said, \"It's okay, we can share what we have.\"",
            "They ran under a big tree and waited."),
        c.f("They played games and sang songs.", "They ate and looked at the {nature}."),
        c.f("In the end, it was a fun picnic after all.", "Everyone had a great time."),
    ], [
        "{H} learned that a little problem does not have to spoil the fun.",
    ]


def plot_ball_game(c):
    return [
        c.f("{H} and {F} played ball at the {place}.",
            "One {time}, {H} took {his} {color} ball to the {place}."),
        c.f("{H} kicked the ball high in the air.", "{F} threw the ball, and {H} tried to catch it."),
        c.f("The ball flew over the fence!", "The ball rolled into the pond.",
            "The ball got stuck in a tall tree."),
        c.f("\"What do we do now?\" asked {F}.", "{H} was {bad}. It was {his} only ball."),
        c.f("A tall man came by and helped them get it.",
            "{H} found a long stick and pulled the ball back.",
            "A {animal} came and pushed the ball back to them."),
        c.f("\"Thank you!\" they said.", "{H} and {F} cheered."),
        c.f("They kept playing until the sun went down.", "They played ball all day long."),
    ], [
        "They learned to kick the ball a little softer.",
        "{H} learned that friends can fix problems together.",
    ]


def plot_dark(c):
    return [
        c.f("It was night, and {H} was in bed.", "One night, {H} could not sleep."),
        c.f("{He} heard a strange noise outside.", "{He} saw a big shadow on the wall."),
        c.f("{H} was scared. {He} pulled the blanket over {his} head.",
            "{H} felt worried. \"Is it a monster?\" {he} thought."),
        c.f("{He} called, \"{Ad}!\" and {his} {ad} came in.", "{H} took {his} flashlight and looked."),
        c.f("It was only the wind moving the tree.", "It was only {pet_a} at the window.",
            "The shadow was just {his} {cuddly} on the chair."),
        c.f("{H} laughed. \"It is not scary at all!\"", "{His} {ad} smiled and gave {him} a kiss."),
        c.f("Then {he} closed {his} eyes and fell asleep.", "{H} hugged {his} {cuddly} and went to sleep."),
    ], [
        "{H} learned that the dark is not so scary.",
    ]


def plot_school(c):
    return [
        c.f("It was {H}'s first day at school.", "{H} went to school with {his} new bag."),
        c.f("{He} felt {bad} because {he} did not know anyone.",
            "{He} was shy and stood by the door."),
        c.f("The teacher smiled and said, \"Welcome! Come and sit down.\"",
            "A kind teacher showed {him} where to sit."),
        c.f("A {fkind} named {F} sat next to {him}.", "Then {F} came and said, \"Do you want to play?\""),
        c.f("They drew pictures of {plural_nature} together.",
            "At lunch, {F} shared {fhis} {food} with {H}.",
            "They played on the slide and the swings."),
        c.f("{H} was not shy anymore.", "Soon {H} was laughing with {F}."),
        c.f("When {his} {ad} came, {H} said, \"School is fun!\"",
            "{H} could not wait to go back the next day."),
    ], [
        "{H} learned that new places can be fun.",
    ]


def plot_snow(c):
    return [
        c.f("One {time}, {H} looked out the window. Everything was white with snow!",
            "It snowed all night. In the morning, the whole {place} was white."),
        c.f("{H} and {F} put on their warm coats, hats and boots.", "{H} ran outside with {F}."),
        c.f("{He} wanted to build a big snowman.", "They wanted to make the biggest snowman in town."),
        c.f("They rolled a big ball of snow, then a small one.", "They rolled the snow into three balls."),
        c.f("But the snowman fell over, and the head broke.", "But the top ball was too heavy, and it fell down."),
        c.f("{H} felt {bad}.", "\"Oh no!\" said {F}."),
        c.f("{His} {ad} came out and helped them lift it.", "They tried again and pressed the snow down hard."),
        c.f("They gave the snowman a carrot nose and two rocks for eyes.",
            "They put a hat and a scarf on the snowman."),
        c.f("The snowman looked so funny. They all laughed.", "Then they went inside for hot milk."),
    ], [
        "{H} learned that working together makes things easier.",
    ]


def plot_beach(c):
    return [
        c.f("One {time}, {H} and {his} {ad} went to the beach.", "{H} and {F} played on the beach."),
        c.f("{H} made a sand castle with {his} bucket and shovel.",
            "{He} built a tall sand castle with a little flag on top."),
        c.f("{He} was very proud of it.", "It had four towers and a wall."),
        c.f("Then a big wave came and washed the castle away!", "But a big wave came in, and the castle was gone."),
        c.f("{H} was {bad} and wanted to cry.", "\"My castle!\" cried {H}."),
        c.f("{His} {ad} said, \"Let's build a new one, farther from the water.\"",
            "{F} said, \"We can make an even better one!\""),
        c.f("So they built a new castle, and they put shells on it.",
            "They built a new one with a big wall to stop the waves."),
        c.f("This time, the waves did not reach it.", "The new castle was even better than the first."),
    ], [
        "{H} learned that you can always start again.",
    ]


def plot_sick(c):
    return [
        c.f("One {time}, {H} woke up and did not feel well.", "{H} had a cough and a hot head."),
        c.f("{His} tummy hurt, and {he} was very tired.", "{He} wanted to play, but {he} was too sick."),
        c.f("{His} {ad} took {him} to the doctor.", "{His} {ad} called the doctor."),
        c.f("The doctor was kind. \"You need to rest and drink water,\" she said.",
            "The doctor smiled and gave {him} some medicine."),
        c.f("{H} stayed in bed all day with {his} {cuddly}.", "{His} {ad} made {him} warm soup."),
        c.f("{F} came to visit and brought a card.", "{F} sent a picture of a big smiling sun."),
        c.f("The next day, {H} felt much better.", "After two days, {H} was well again."),
        c.f("{He} ran outside to play with {F}.", "{He} was so happy to be back at the {place}."),
    ], [
        "{H} learned that rest helps you get well.",
    ]


def plot_nest(c):
    return [
        c.f("One {time}, {H} was walking under a tall tree.", "{H} and {F} were playing in the {place}."),
        c.f("{He} heard a little peep. A baby bird had fallen from its nest!",
            "On the ground, {he} saw a tiny bird. It could not fly yet."),
        c.f("The baby bird was {bad} and cold.", "The little bird looked up at {H} and peeped."),
        c.f("{H} wanted to help. {He} picked it up very gently.", "\"Poor little bird,\" said {H}."),
        c.f("{His} {ad} got a ladder and put the bird back in its nest.",
            "{H} climbed up carefully and put the bird back in the nest."),
        c.f("The mother bird came back and sang a happy song.",
            "Soon the mother bird flew back with a worm."),
        c.f("{H} smiled and waved at the birds.", "Every day after that, {H} came to see the little bird."),
    ], [
        "{H} learned to be gentle with small animals.",
    ]


def plot_wish(c):
    return [
        c.f("One {time}, {H} found a shiny stone in the {place}.", "{H} found an old lamp under {his} bed."),
        c.f("When {he} held it, it began to glow!", "{He} rubbed it, and a little light came out."),
        c.f("A soft voice said, \"You can make one wish.\"", "\"I am a magic fairy. I can give you one wish,\" said a tiny voice."),
        c.f("{H} thought and thought. {He} wanted {color_toy}.", "{H} wanted to fly like a bird."),
        c.f("But then {he} saw {F}, who was {bad}.", "Then {he} remembered that {F} was {bad} today."),
        c.f("\"I wish for {F} to be happy,\" said {H}.", "So {H} wished for {F} to smile again."),
        c.f("The stone glowed, and {F} came running with a big smile.", "Just then, {F} laughed and ran to play with {H}."),
        c.f("They played together all day.", "{H} felt happier than ever."),
    ], [
        "{H} learned that making a friend happy is the best wish of all.",
    ]


def plot_animal_hero(c):
    """A story whose hero is an animal (the hero's name becomes a pet name)."""
    c["H"] = c["pet"]
    c["kind"] = c["animal"]
    c["adj_a"] = an(c["adj"])
    friend = c.r.choice([a for a in ANIMALS if a[0] != c["animal"]])
    c["fanimal"], c["fsound"] = friend[0], friend[2]
    goal = c.r.choice([
        ("find some food for winter", "found a big pile of nuts and seeds"),
        ("see what was on top of the hill", "stood on the top and saw the whole {place2}"),
        ("cross the river", "walked over a log and reached the other side"),
        ("find {his} way home", "saw {his} home under the big tree"),
        ("make a new friend", "had a new friend"),
    ])
    c["goal"], c["done"] = goal
    return [
        c.f("{He} lived in the {place} with {his} family.", "{His} home was a little hole near the {place}."),
        c.f("One {time}, {H} wanted to {goal}.", "One {time}, {H} said, \"Today I will {goal}!\""),
        c.f("On the way, {he} met a {fanimal}.", "{He} walked and walked until {he} met a {fanimal}."),
        c.f("\"Where are you going?\" asked the {fanimal}.", "The {fanimal} {fsound} and said hello."),
        c.f("\"I want to {goal},\" said {H}. \"But I am {bad}.\"", "{H} told the {fanimal} about {his} plan."),
        c.f("\"I will help you,\" said the {fanimal}.", "The {fanimal} smiled. \"Let's go together.\""),
        c.f("The way was long, and {weather}.", "They walked past the {nature} and over the hill."),
        c.f("But they did not give up.", "They helped each other all the way."),
        c.f("At last, {H} {done}!", "In the end, {H} {done}."),
        c.f("{H} thanked the {fanimal}, and they became best friends.",
            "{H} and the {fanimal} laughed and played until the stars came out."),
    ], [
        "{H} learned that friends make every trip better.",
        "{H} learned that it is good to ask for help.",
    ]


PLOTS = [plot_lost_toy, plot_new_friend, plot_sharing, plot_weather, plot_baking,
         plot_adventure, plot_helping, plot_try_again, plot_birthday, plot_garden,
         plot_pet_runs, plot_honest, plot_picnic, plot_ball_game, plot_dark,
         plot_school, plot_snow, plot_beach, plot_sick, plot_nest, plot_wish,
         plot_animal_hero, plot_animal_hero]

# A scene sentence now and then, after the opening.
SCENES = [
    "The sun was shining, and the birds were singing.",
    "The sky was gray, and the air was cold.",
    "The grass was green and soft.",
    "It was a quiet day in the little town.",
    "The wind was blowing the leaves around.",
    "The flowers were red, yellow and pink.",
    "It was warm, and there was not a cloud in the sky.",
    "There were big puddles on the road from the rain.",
    "The trees were tall, and the leaves were falling.",
    "It was a busy day, and everyone was outside.",
]


def animal_opening(c):
    return [c.f("Once upon a time, there was {adj_a} {kind} named {H}.",
                "Once upon a time, in a big forest, there lived {adj_a} {kind} called {H}.",
                "{H} was {adj_a} {kind}.",
                "There once was a {kind} named {H} who was very {adj}.")]


def story(r):
    c = Ctx(r)
    setup(c)
    c["plural_nature"] = c["nature"]
    plot = r.choice(PLOTS)
    if plot is plot_animal_hero:
        c.person("", r.random() < 0.5)
    middle, morals = plot(c)
    head = animal_opening(c) if plot is plot_animal_hero else opening(c, plot is plot_pet_runs)
    if r.random() < 0.35:
        head.append(r.choice(SCENES))
    parts = head + middle
    # Now and then skip a sentence or two so stories differ in length and shape.
    n = len(parts)
    parts = [p for i, p in enumerate(parts) if i < 2 or i >= n - 2 or r.random() > 0.05]
    with_friend = any(c["F"] in p for p in parts)
    parts += ending(c, morals if r.random() < 0.7 else None, with_friend)
    text = " ".join(parts)
    assert "{" not in text and text.isascii(), text
    return text


def generate(seed, nbytes):
    r = random.Random(seed)
    out, size = [], 0
    while size < nbytes:
        s = story(r)
        out.append(s)
        size += len(s) + 2
    return "\n\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default="data/corpus")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--bytes", type=int)
    ap.add_argument("--out")
    a = ap.parse_args()
    jobs = ([(a.out, a.seed, a.bytes)] if a.out else
            [(os.path.join(a.outdir, n), s, b) for n, s, b in DEFAULTS])
    for path, seed, nbytes in jobs:
        if seed is None or nbytes is None:
            ap.error("--out needs --seed and --bytes")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        text = generate(seed, nbytes)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
        print("%s: %d bytes, %d stories (seed %d)" % (path, len(text), text.count("\n\n") + 1, seed))


if __name__ == "__main__":
    main()
